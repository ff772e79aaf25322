/**
 * The stand-in in a process of its own, so that the load generator and the servers under
 * test do not share its event loop. The parent asks for request counts and sets faults and
 * upstream latency over IPC.
 */
import { sampleDevices } from '../../tools/standin/data.ts';
import { startStandin } from '../../tools/standin/server.ts';
import { benchDevices } from './workloads.ts';

export type StandinCommand =
  | { type: 'stats' }
  | { type: 'fault503'; rate: number }
  /** Every device request (`/devices/…`) waits this long before it is answered. */
  | { type: 'latency'; ms: number };
export interface StandinStats {
  devices: number;
  logins: number;
}

const standin = await startStandin({ devices: [...sampleDevices(), ...benchDevices()] });
let rate503 = 0;
let latencyMs = 0;
let draws = 0;
standin.setFault((request) => {
  if (!request.path.startsWith('/devices/')) return undefined;
  // A fixed pattern, not Math.random: every run injects exactly the same share of 503s.
  const fail = rate503 > 0 && ((draws += 1) * 7919) % 100 < rate503 * 100;
  if (fail) return { status: 503, code: 'service_unavailable', delayMs: latencyMs };
  // A fault with only a delay answers normally once the delay is over.
  return latencyMs > 0 ? { delayMs: latencyMs } : undefined;
});

process.on('message', (command: StandinCommand) => {
  if (command.type === 'fault503') {
    rate503 = command.rate;
    process.send!({ ok: true });
  } else if (command.type === 'latency') {
    latencyMs = command.ms;
    process.send!({ ok: true });
  } else {
    const stats: StandinStats = { devices: standin.count('/devices/'), logins: standin.count('/login') };
    // The log would grow for the whole run; only the counts matter here.
    standin.resetLog();
    process.send!(stats);
  }
});
process.on('disconnect', () => void standin.close().then(() => process.exit(0)));
process.send!({ url: standin.url.href });

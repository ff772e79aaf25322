/**
 * The stand-in in a process of its own, so that the load generator and the facade do not
 * share its event loop. The parent asks for request counts and sets faults over IPC.
 */
import { startStandin } from '../../src/standin/server.ts';

export type StandinCommand = { type: 'stats' } | { type: 'fault503'; rate: number };
export interface StandinStats {
  devices: number;
  logins: number;
}

const standin = await startStandin();
let rate503 = 0;
let draws = 0;
standin.setFault((request) => {
  if (rate503 === 0 || !request.path.startsWith('/devices/')) return undefined;
  // A fixed pattern, not Math.random: every run injects exactly the same share of 503s.
  draws += 1;
  return (draws * 7919) % 100 < rate503 * 100 ? { status: 503, code: 'service_unavailable' } : undefined;
});

process.on('message', (command: StandinCommand) => {
  if (command.type === 'fault503') {
    rate503 = command.rate;
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

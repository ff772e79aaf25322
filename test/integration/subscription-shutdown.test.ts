import { expect, it } from 'vitest';
import { SEED_DEVICE_ID } from '../../tools/standin/data.ts';
import { startCallbackReceiver } from '../support/callback-receiver.ts';
import { readMultipart } from '../support/multipart.ts';
import { startDev } from '../support/process.ts';
import { subscribeSse } from '../support/sse.ts';
import { connectRaw } from '../support/websocket.ts';

const WATCH = 'subscription ($id: ID!) { deviceUpdated(id: $id) { id } }';

it('SIGTERM ends a subscription cleanly in every transport (SSE, multipart, WebSocket, HTTP callback), then the service exits', async () => {
  const receiver = await startCallbackReceiver();
  const main = startDev({ PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '20000', SUBSCRIPTION_CALLBACK_URLS: receiver.url.href });
  try {
    const url = String((await main.waitForLog((line) => typeof line.url === 'string')).url);
    const variables = { id: SEED_DEVICE_ID };

    const sse = await subscribeSse(url, WATCH, variables);
    expect(await sse.next()).toMatchObject({ data: { deviceUpdated: { id: SEED_DEVICE_ID } } });
    const multipart = readMultipart(
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0", application/json' },
        body: JSON.stringify({ query: WATCH, variables }),
      }),
    );
    expect(await multipart.next()).toEqual({}); // the first heartbeat
    expect(await multipart.next()).toMatchObject({ payload: { data: { deviceUpdated: { id: SEED_DEVICE_ID } } } });
    const socket = await connectRaw(url);
    socket.send({ id: '1', type: 'subscribe', payload: { query: WATCH, variables } });
    expect(await socket.next()).toMatchObject({ type: 'next', payload: { data: { deviceUpdated: { id: SEED_DEVICE_ID } } } });
    const callback = await receiver.subscribe(url, WATCH, variables);
    expect(callback.response.status).toBe(200);
    await callback.waitFor('next');

    const signalledAt = performance.now();
    main.child.kill('SIGTERM');
    const shuttingDown = { extensions: { code: 'SHUTTING_DOWN' } };

    expect(await sse.next()).toMatchObject({ errors: [shuttingDown] });
    expect(await sse.next()).toBeUndefined();
    expect(sse.completed).toBe(true); // `event: complete`

    let part = await multipart.next();
    while (part !== undefined && Object.keys(part).length === 0) part = await multipart.next(); // heartbeats
    expect(part).toMatchObject({ payload: { errors: [shuttingDown] } });
    expect(await multipart.next()).toBeUndefined(); // the closing boundary, then the end

    expect(await socket.next()).toMatchObject({ id: '1', type: 'next', payload: { errors: [shuttingDown] } });
    expect(await socket.next()).toEqual({ id: '1', type: 'complete' });
    expect(await socket.closed).toEqual({ code: 1001, reason: 'The server is shutting down' });

    expect((await callback.waitFor('complete')).errors).toMatchObject([shuttingDown]);

    expect((await main.exit()).code).toBe(0);
    // Each ended by itself: the 20 s grace period was not needed to cut any off.
    expect(performance.now() - signalledAt).toBeLessThan(15_000);
    expect(main.output()).not.toContain('grace period over');
  } finally {
    if (main.child.exitCode === null) main.child.kill('SIGKILL');
    await receiver.close();
  }
});

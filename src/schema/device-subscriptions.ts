import { builder } from '../builder.ts';
import type { DeviceEvent } from '../live/live-devices.ts';
import { assertDeviceId } from '../loaders/device-loader.ts';
import { DeviceRef } from './device.ts';

builder.subscriptionFields((t) => ({
  deviceUpdated: t.field({
    type: DeviceRef,
    authenticated: true,
    description:
      'The device now, then again whenever Flatpeak’s answer changes (any field, lastSeen included). Flatpeak has no push: the service polls each watched device every DEVICE_POLL_INTERVAL_MS, once for all its subscribers. A failed poll sends nothing; after SUBSCRIPTION_MAX_ERRORS failures in a row, or when you may no longer read the device, a last event carries the error and the stream ends.',
    args: { id: t.arg.id({ required: true, description: 'Flatpeak device ID, e.g. dev_63a6087272941ef077a8fd3e.' }) },
    subscribe: async (_root, { id }, context) => {
      assertDeviceId(id);
      await context.admit();
      // The connection's own signal, not the request's deadline: a subscription outlives it.
      // A callback subscription outlives its request too: its end is the callback's to say.
      const signal = context.subscriptionSignal ?? (context as typeof context & { request: Request }).request.signal;
      return context.live.watch({
        id,
        caller: context.caller,
        credential: context.upstreamCredential,
        signal,
        requestId: context.requestId,
      });
    },
    resolve: (event: DeviceEvent) => {
      if ('error' in event) throw event.error;
      return event.device;
    },
  }),
}));

import { LIMITS } from '../limits.ts';

/**
 * Demand-control hints (`@cost`, `@listSize`, Federation 2.9) for routers that estimate an
 * operation's cost before planning it (Apollo Router, Hive Gateway). They use the units of
 * the subgraph's own estimate (graphql-armor: an object weighs 2, a scalar 1), so that a
 * router configured with the subgraph's budget (LIMITS.cost) refuses, before calling, what
 * is in the same order of cost; see docs/consumers.md#demand-control.
 */

/** A device may cost one upstream GET: it weighs what graphql-armor gives an object. */
export const DEVICE_COST = 2;

/**
 * `devices(ids:)`: the estimate charges the most ids a call may take. Composition accepts
 * only Int slicing arguments, so the list's length cannot size it.
 */
export const DEVICES_BY_ID_SIZE = { assumedSize: LIMITS.deviceIds.value };

/** A listing's edges are as many as its `first`. */
export const PAGE_SIZE = { slicingArguments: ['first'], sizedFields: ['edges'] };

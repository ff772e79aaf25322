/**
 * Paths that orchestrators and scrapers call every few seconds: logged at debug (at info they
 * would bury the traffic), and never refused for load (a busy instance must still look alive).
 */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics', '/status']);

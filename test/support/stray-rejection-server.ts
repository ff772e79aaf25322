/**
 * A process wired as `main.ts` wires it (last-resort handlers, the same HTTP server), in
 * front of a tiny app whose resolvers make the bugs the handlers exist to survive.
 */
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { createHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { handleStrayErrors } from '../../src/stray-errors.ts';

const logger = createLogger('info');
handleStrayErrors(process, { logger, exit: (code) => process.exit(code) });

const app = createYoga({
  schema: createSchema({
    typeDefs: 'type Query { drop: Boolean, throwLater: Boolean }',
    resolvers: {
      Query: {
        drop: async () => {
          await Promise.resolve();
          void Promise.reject(new Error('dropped on the floor'));
          return true;
        },
        throwLater: () => {
          setImmediate(() => {
            throw new Error('thrown from a callback');
          });
          return true;
        },
      },
    },
  }),
  healthCheckEndpoint: '/health',
});

const server = createHttpServer((req, res) => void app(req, res));
server.listen(0, '127.0.0.1', () => {
  logger.info({ port: (server.address() as AddressInfo).port }, 'listening');
});

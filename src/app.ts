import { useApolloInlineTrace } from '@graphql-yoga/plugin-apollo-inline-trace';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Dispatcher } from 'undici';
import type { Config } from './config.ts';
import { type Context, createContextFactory } from './context.ts';
import { createGraphiQLRenderer, graphiqlOptions } from './graphiql.ts';
import type { Logger } from './logger.ts';
import { useUpstreamErrorLog, useVariableErrorCode } from './plugins/error-codes.ts';
import { usePersistedOperationsMode } from './plugins/persisted-operations.ts';
import { useRequestIdHeader } from './plugins/request-id.ts';
import { useSecurityLimits } from './plugins/security.ts';
import { schema } from './schema/index.ts';
import { createServiceTokenSource, type TokenSource } from './upstream/auth.ts';
import { createFlatpeakClient } from './upstream/flatpeak.ts';

export interface AppOptions {
  readonly config: Config;
  /** Where Flatpeak is: `config.flatpeakApiUrl`, or the embedded stand-in's address. */
  readonly upstreamUrl: URL;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
}

export type App = YogaServerInstance<Record<string, unknown>, Context>;

/** The whole GraphQL service, without a port: `main.ts` listens, tests call `app.fetch`. */
export function createApp({ config, upstreamUrl, dispatcher, logger }: AppOptions): App {
  const client = createFlatpeakClient({ baseUrl: upstreamUrl, dispatcher });
  let serviceToken: TokenSource | undefined;
  if (config.serviceCredentials) {
    const { accountId, apiKey } = config.serviceCredentials;
    serviceToken = createServiceTokenSource({
      login: async () => {
        const login = await client.login(accountId, apiKey);
        logger.info({ accountId, expiresIn: login.expires_in }, 'logged in to Flatpeak');
        return login;
      },
    });
  }

  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: createContextFactory({ client, serviceToken }),
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    graphiql: graphiqlOptions,
    renderGraphiQL: createGraphiQLRenderer(),
    // Never development mode: it would attach original errors and stacks to responses.
    maskedErrors: { isDev: false },
    logging: logger,
    plugins: [
      useSecurityLimits(),
      useVariableErrorCode(),
      useRequestIdHeader(),
      useUpstreamErrorLog(logger),
      // Consumers: persisted operations for the apps, @defer/@stream for slow screens,
      // ftv1 traces for a router that asks for them (apollo-federation-include-trace).
      // A trace carries the response's errors after masking, so it reveals nothing more.
      ...usePersistedOperationsMode(config.persistedOperations),
      useDeferStream(),
      useApolloInlineTrace(),
    ],
  });
}

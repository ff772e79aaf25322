import { useApolloInlineTrace } from '@graphql-yoga/plugin-apollo-inline-trace';
import { defaultFieldResolver, type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema, isIntrospectionType, isObjectType } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type RequestContext = { readonly request: Request };
type Field = GraphQLField<unknown, RequestContext>;
type Resolver = GraphQLFieldResolver<unknown, RequestContext>;
type SchemaChange = NonNullable<Plugin['onSchemaChange']>;

/**
 * ftv1 traces (`extensions.ftv1`) for an Apollo router or gateway that sends
 * `apollo-federation-include-trace: ftv1`, at almost no cost to the requests that don't.
 *
 * Yoga's useApolloInlineTrace does the tracing, the trace's errors and its encoding; but it
 * records field timings through @envelop/on-resolve, which puts its wrapper (closures and
 * promise helpers on every call) in front of every resolver, for every request. Here that
 * wrapper is held back from Yoga and applied by this plugin instead, beside each field's
 * own resolver: a field then calls the traced one only for a request that asked for a
 * trace (decided once, when the request arrives), and its own resolver otherwise.
 */
export function useFederatedTraces(): Plugin {
  const tracedRequests = new WeakSet<Request>();
  const resolverWrappers: Plugin[] = [];
  const inlineTrace = holdingBackResolverWrappers(
    useApolloInlineTrace({
      // The library's own rule (the header, exactly `ftv1`), noted where the library asks it.
      ignoreRequest: (request) => {
        const ignore = request.headers.get('apollo-federation-include-trace') !== 'ftv1';
        if (!ignore) tracedRequests.add(request);
        return ignore;
      },
    }),
    resolverWrappers,
  );
  const dispatched = new WeakSet<Field>();

  return {
    onPluginInit({ addPlugin }) {
      addPlugin(inlineTrace);
    },
    onSchemaChange(change) {
      // Should the library stop adding its wrapper this way: fail at startup, rather than
      // quietly trace no field, or wrap every field for every request again.
      if (resolverWrappers.length === 0) throw new Error('useApolloInlineTrace added no resolver wrapper (@envelop/on-resolve) to hold back');
      const own = ownResolvers(change.schema as GraphQLSchema, dispatched);
      for (const wrapper of resolverWrappers) (wrapper.onSchemaChange as SchemaChange)(change);
      for (const [field, resolve] of own) {
        const traced = field.resolve;
        if (!traced || traced === resolve) continue;
        field.resolve = (source, args, context, info) =>
          tracedRequests.has(context.request) ? traced(source, args, context, info) : resolve(source, args, context, info);
        dispatched.add(field);
      }
    },
  };
}

/**
 * Each field's resolver before the trace wrapper replaces it, for the fields that wrapper
 * goes through: those of object types other than introspection's, resolved by graphql-js's
 * default when they have no resolver of their own (as the wrapper itself does).
 */
function ownResolvers(schema: GraphQLSchema, dispatched: WeakSet<Field>): Map<Field, Resolver> {
  const own = new Map<Field, Resolver>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!dispatched.has(field)) own.set(field, (field.resolve ?? defaultFieldResolver) as Resolver);
    }
  }
  return own;
}

/**
 * `plugin`, whose plugins added at init (and theirs) reach Yoga as usual, except the ones
 * that only wrap the schema's resolvers (@envelop/on-resolve's useOnResolve), which go to
 * `held` for the caller to apply.
 */
function holdingBackResolverWrappers(plugin: Plugin, held: Plugin[]): Plugin {
  const { onPluginInit } = plugin;
  if (!onPluginInit) return plugin;
  return {
    ...plugin,
    onPluginInit: (payload) =>
      onPluginInit({
        ...payload,
        addPlugin: (added: Plugin) => {
          const hooks = Object.keys(added);
          if (hooks.length === 1 && hooks[0] === 'onSchemaChange') held.push(added);
          else payload.addPlugin(holdingBackResolverWrappers(added, held));
        },
      }),
  };
}

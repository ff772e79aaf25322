import { type DocumentNode, getOperationAST, type GraphQLError, Kind, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { unauthenticated } from '../../callers/jwt.ts';
import type { Context } from '../../context.ts';

/** What anyone may ask without a token: the schema itself (GraphiQL, codegen, `rover subgraph introspect`). */
const PUBLIC_ROOT_FIELDS = new Set(['__typename', '__schema', '__type', '_service']);

/**
 * CALLER_AUTH=jwt: a request without a token that asks for anything but the schema is
 * refused as a whole, with HTTP 401, before it executes. The loader refuses anonymous
 * callers as well; this makes the answer a clean 401 instead of a page of item errors.
 */
export function useCallerRequired(): Plugin<Context> {
  const refuse = ({
    args,
    setResultAndStopExecution,
  }: {
    args: { contextValue: Context; document: DocumentNode; operationName?: string | null };
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
  }) => {
    if (args.contextValue.caller.kind !== 'anonymous') return;
    if (onlyPublicFields(args.document, args.operationName ?? undefined)) return;
    setResultAndStopExecution({
      errors: [unauthenticated('Sign in: send your token in the Authorization header (Authorization: Bearer <JWT>)')],
    });
  };
  // Subscriptions too: a stream that would only ever carry UNAUTHENTICATED is a 401.
  return { onExecute: refuse, onSubscribe: refuse };
}

function onlyPublicFields(document: DocumentNode, operationName: string | undefined): boolean {
  const operation = getOperationAST(document, operationName);
  if (!operation) return true; // graphql-js reports the missing operation itself
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  const visited = new Set<string>();
  const check = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.every((selection) => {
      if (selection.kind === Kind.FIELD) return PUBLIC_ROOT_FIELDS.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return check(selection.selectionSet);
      const name = selection.name.value;
      if (visited.has(name)) return true; // validation has already refused cycles
      visited.add(name);
      const fragment = fragments.get(name);
      return fragment ? check(fragment.selectionSet) : true;
    });
  return check(operation.selectionSet);
}

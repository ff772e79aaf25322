import {
  type ASTNode,
  BREAK,
  type DirectiveNode,
  type DocumentNode,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../../context.ts';
import { FacadeError } from '../../errors.ts';

const INCREMENTAL = new Set(['defer', 'stream']);

/**
 * The arguments of `@defer` and `@stream`, checked before the operation runs, with the
 * request's variables. The executor checks them only while it executes, and badly for a
 * service: a negative or null `@stream(initialCount:)` fails the field with a plain Error,
 * which Yoga masks as "Unexpected error." and logs at error level (anyone could fill the
 * log, and subscriptions do it per event), and a null `if` through a variable fails it
 * without a code. Both are the caller's input: BAD_USER_INPUT, HTTP 400, nothing executed.
 * Not a validation rule: it would see literals only, and a variable carries the same
 * values. A bad label or a literal of the wrong type is a validation error already.
 */
export function useDeferStreamArguments(): Plugin<Context> {
  // Per parsed document (the document cache hands out the same one): most use neither
  // directive with arguments, and then cost one lookup.
  const withArguments = new WeakMap<DocumentNode, boolean>();
  const refuse = ({
    args,
    setResultAndStopExecution,
  }: {
    args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null };
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
  }) => {
    let argued = withArguments.get(args.document);
    if (argued === undefined) {
      argued = hasIncrementalArguments(args.document);
      withArguments.set(args.document, argued);
    }
    if (!argued) return;
    const problem = argumentProblem(args.schema, args.document, args.operationName ?? undefined, args.variableValues ?? {});
    if (problem) setResultAndStopExecution({ errors: [new FacadeError('BAD_USER_INPUT', problem, undefined, { http: { status: 400 } })] });
  };
  return { onExecute: refuse, onSubscribe: refuse };
}

function hasIncrementalArguments(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (!isIncrementalWithArguments(node)) return;
      found = true;
      return BREAK;
    },
  });
  return found;
}

const isIncrementalWithArguments = (node: DirectiveNode) => INCREMENTAL.has(node.name.value) && (node.arguments?.length ?? 0) > 0;

/** What is wrong with the arguments of the operation's `@defer` and `@stream`, if anything. */
function argumentProblem(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  inputs: Record<string, unknown>,
): string | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined; // the executor reports the missing operation itself
  const directives = incrementalDirectives(document, operation);
  if (directives.length === 0) return undefined;
  const variables = getVariableValues(schema, operation.variableDefinitions ?? [], inputs, { maxErrors: 1 });
  if (variables.errors) return undefined; // the executor refuses bad variables itself, with their own message
  for (const node of directives) {
    const definition = schema.getDirective(node.name.value);
    if (!definition) continue;
    let values: Record<string, unknown>;
    try {
      // As the executor reads them: variable, its default, the argument's default.
      values = getArgumentValues(definition, node, variables.coerced);
    } catch (error) {
      if (error instanceof GraphQLError) return `@${node.name.value}: ${error.message}`;
      throw error;
    }
    const count = values.initialCount;
    if (node.name.value === 'stream' && !(typeof count === 'number' && count >= 0)) {
      return `@stream: initialCount (how many items the first part carries) must be 0 or more, not ${String(count)}`;
    }
  }
  return undefined;
}

/** The `@defer` and `@stream` with arguments in what `operation` runs, fragments included. */
function incrementalDirectives(document: DocumentNode, operation: ASTNode): DirectiveNode[] {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  const found: DirectiveNode[] = [];
  const visited = new Set<string>();
  const walk = (node: ASTNode) =>
    visit(node, {
      Directive(directive) {
        if (isIncrementalWithArguments(directive)) found.push(directive);
      },
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (visited.has(name)) return; // validation has already refused cycles
        visited.add(name);
        const fragment = fragments.get(name);
        if (fragment) walk(fragment);
      },
    });
  walk(operation);
  return found;
}

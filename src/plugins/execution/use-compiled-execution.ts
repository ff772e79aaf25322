import {
  BREAK,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  getOperationAST,
  OperationTypeNode,
  Kind,
  type SelectionSetNode,
  visit,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

export interface CompiledExecutionOptions {
  /**
   * The root fields of the queries it compiles: those whose resolvers can run a second time
   * in a request at no cost but CPU (they read through the request's loader, which answers
   * again what it loaded). A query that selects any other runs uncompiled.
   */
  readonly rootFields: ReadonlySet<string>;
  /** Requests to run uncompiled whatever they ask (those whose resolvers are traced one by one). */
  readonly skip?: (request: Request) => boolean;
  /** Told of each query whose compiled answer was sent (the metrics count them). */
  readonly onCompiledRun?: () => void;
}

/** A document's compiled queries by operation name ('' for the only one), or null where one is not compiled. */
type Compiled = Map<string, CompiledQuery | null>;

/**
 * Runs the queries that apps send again and again as graphql-jit compiled them: one
 * function per operation, in place of Yoga's executor walking the document for every
 * request (docs/benchmarks.md has what it saves). Its answers are Yoga's executor's,
 * because it sends graphql-jit's only where the two agree
 * (test/integration/compiled-execution.test.ts holds it to that):
 *
 * - Only answers without errors. graphql-jit's errors are not graphql-js's (it reports
 *   every failed field under a nulled object, and its lists can lose or gain items when
 *   some of their promises reject), so for an answer with errors, or with variables that
 *   did not coerce, Yoga's executor runs the query again, and its answer is sent. That
 *   costs the CPU of a second run, no upstream call: hence `rootFields`.
 * - Only queries. Mutations (rare, and never to be run twice), subscriptions, and
 *   documents that use @defer or @stream (graphql-jit answers in one part) stay with
 *   Yoga's executor, as do operations that a name does not pick out.
 * - A document is compiled when it runs a second time, not the first: compiling costs far
 *   more than a run, and a caller that sends a new document every time would otherwise
 *   have the service compile for it every time.
 *
 * Compiled queries are kept as long as their document is (a WeakMap): the document cache
 * bounds both.
 */
export function useCompiledExecution({ rootFields, skip, onCompiledRun }: CompiledExecutionOptions): Plugin<{ request: Request }> {
  const ranOnce = new WeakSet<DocumentNode>();
  const compiled = new WeakMap<DocumentNode, Compiled>();

  function compiledFor({ schema, document, operationName }: ExecutionArgs): CompiledQuery | null {
    const name = operationName ?? '';
    let operations = compiled.get(document);
    const known = operations?.get(name);
    if (known !== undefined) return known;
    if (!ranOnce.has(document)) {
      ranOnce.add(document);
      return null;
    }
    let query: CompiledQuery | null = null;
    const operation = getOperationAST(document, operationName);
    if (
      operation?.operation === OperationTypeNode.QUERY &&
      selectsOnly(rootFields, operation.selectionSet, document) &&
      !usesIncrementalDelivery(document)
    ) {
      // Stacks never reach a response or a log; capturing one per error costs.
      const result = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      if (isCompiledQuery(result)) query = result;
    }
    if (!operations) compiled.set(document, (operations = new Map<string, CompiledQuery | null>()));
    operations.set(name, query);
    return query;
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (skip?.(args.contextValue.request)) return;
      const query = compiledFor(args);
      if (!query) return;
      const uncompiled = executeFn as (args: ExecutionArgs) => unknown;
      setExecuteFn((given: ExecutionArgs) => {
        const answered = (result: ExecutionResult): unknown => {
          if (result.errors || result.data === undefined) return uncompiled(given);
          onCompiledRun?.();
          return result;
        };
        const ran = query.query(given.rootValue, given.contextValue, given.variableValues ?? {});
        return ran instanceof Promise ? ran.then(answered) : answered(ran);
      });
    },
  };
}

/** Whether every root field the selection set selects (through fragments too) is one of `fields`. */
function selectsOnly(fields: ReadonlySet<string>, selectionSet: SelectionSetNode, document: DocumentNode): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) return fields.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsOnly(fields, selection.selectionSet, document);
    const fragment = document.definitions.find(
      (definition): definition is FragmentDefinitionNode =>
        definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === selection.name.value,
    );
    return fragment !== undefined && selectsOnly(fields, fragment.selectionSet, document);
  });
}

function usesIncrementalDelivery(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'defer' && node.name.value !== 'stream') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

import {
  BREAK,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  getOperationAST,
  Kind,
  OperationTypeNode,
  parse,
  print,
  type SelectionSetNode,
  visit,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';

export interface CompiledExecutionOptions {
  /**
   * The root fields of the queries it compiles: those whose resolvers can run a second time
   * in a request at no cost but CPU (they read through the request's loader, which answers
   * again what it loaded). A document that selects any other runs uncompiled.
   */
  readonly rootFields: ReadonlySet<string>;
  /** Runs of a document before it is compiled (LIMITS.runsBeforeCompiling). */
  readonly runsBeforeCompiling: number;
  /** Fields of an operation, fragments expanded, past which it is not compiled (LIMITS.compiledFields). */
  readonly maxFields: number;
  /** Documents kept compiled (LIMITS.compiledDocuments); the least recently run is dropped first. */
  readonly maxDocuments: number;
  /** Requests to run uncompiled whatever they ask (those whose resolvers are traced one by one). */
  readonly skip?: (request: Request) => boolean;
  /** Told of each query whose compiled answer was sent (the metrics count them). */
  readonly onCompiledRun?: () => void;
}

/**
 * Runs the queries that apps send again and again as graphql-jit compiled them: one
 * function per operation, in place of Yoga's executor walking the document for every
 * request (docs/benchmarks.md has what it saves). graphql-jit generates JavaScript from
 * the document, and differs from graphql-js in places, so it is given only documents on
 * which both hold, and its answer is sent only where the two agree
 * (test/integration/compiled-execution.test.ts holds it to that):
 *
 * - Documents whose every argument is a variable, with no default values and no
 *   directives. graphql-jit writes literal argument values into the code it generates, and
 *   a string of a certain shape becomes code there (`new Date(…)` around whatever the
 *   string holds): only names, which GraphQL's grammar keeps to letters, digits and `_`,
 *   reach its code from a document given here. Its @skip/@include differ from graphql-js's
 *   (a fragment included in one place and skipped in another), and so do its variable
 *   defaults.
 * - Only queries, of `rootFields` only. Mutations (never to be run twice), subscriptions
 *   and @defer/@stream (graphql-jit answers in one part) stay with Yoga's executor.
 * - Only answers without errors. graphql-jit's errors are not graphql-js's (it reports
 *   every failed field under a nulled object, and its lists can lose or gain items when
 *   some of their promises reject), so for an answer with errors, or with variables that
 *   did not coerce, Yoga's executor runs the query again, and its answer is sent. That
 *   costs the CPU of a second run, and no upstream call: hence `rootFields`.
 * - A document is compiled after `runsBeforeCompiling` runs, from a copy (graphql-jit
 *   marks the nodes it compiles, and the document cache shares the original with every
 *   request), and only up to `maxFields`: compiling costs far more than a run, and the
 *   code it makes grows with the fields, aliases multiplying them.
 */
export function useCompiledExecution(options: CompiledExecutionOptions): Plugin<{ request: Request }> {
  const { rootFields, runsBeforeCompiling, maxFields, maxDocuments, skip, onCompiledRun } = options;
  const runs = new WeakMap<DocumentNode, number>();
  const refused = new WeakSet<DocumentNode>();
  // By operation name ('' for a document's only one).
  const compiled = new LRUCache<DocumentNode, Map<string, CompiledQuery>>({ max: maxDocuments });

  function compiledFor({ schema, document, operationName }: ExecutionArgs): CompiledQuery | undefined {
    if (refused.has(document)) return undefined;
    let operations = compiled.get(document);
    if (!operations) {
      const ran = (runs.get(document) ?? 0) + 1;
      if (ran < runsBeforeCompiling) {
        runs.set(document, ran);
        return undefined;
      }
      runs.delete(document);
      if (!compilable(document, rootFields, maxFields)) {
        refused.add(document);
        return undefined;
      }
      compiled.set(document, (operations = new Map()));
    }
    const name = operationName ?? '';
    let query = operations.get(name);
    // An operation a name does not pick out: graphql-js's error is the answer.
    if (query || !getOperationAST(document, operationName)) return query;
    let result: CompiledQuery | ExecutionResult | undefined;
    try {
      // Stacks never reach a response or a log; capturing one per error costs.
      result = compileQuery(schema, parse(print(document), { noLocation: true }), operationName ?? undefined, {
        disablingCapturingStackErrors: true,
      });
    } catch {
      // What graphql-jit cannot compile, Yoga's executor runs.
    }
    if (!result || !isCompiledQuery(result)) {
      refused.add(document);
      compiled.delete(document);
      return undefined;
    }
    operations.set(name, (query = result));
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
        let ran: ReturnType<CompiledQuery['query']>;
        try {
          ran = query.query(given.rootValue, given.contextValue, given.variableValues ?? {});
        } catch {
          // A failure of graphql-jit's own code: Yoga's executor answers, as for any error.
          return uncompiled(given);
        }
        return ran instanceof Promise ? ran.then(answered, () => uncompiled(given)) : answered(ran);
      });
    },
  };
}

/** Whether graphql-jit may be given the document (see useCompiledExecution). */
function compilable(document: DocumentNode, rootFields: ReadonlySet<string>, maxFields: number): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let allowed = true;
  visit(document, {
    OperationDefinition(node) {
      allowed =
        node.operation === OperationTypeNode.QUERY &&
        selectsOnly(rootFields, node.selectionSet, fragments) &&
        fieldsIn(node.selectionSet, fragments, maxFields + 1) <= maxFields;
      return allowed ? undefined : BREAK;
    },
    Directive() {
      allowed = false;
      return BREAK;
    },
    VariableDefinition(node) {
      allowed = node.defaultValue === undefined;
      return allowed ? undefined : BREAK;
    },
    Argument(node) {
      allowed = node.value.kind === Kind.VARIABLE;
      return allowed ? undefined : BREAK;
    },
  });
  return allowed;
}

/** Whether every root field the selection set selects (through fragments too) is one of `fields`. */
function selectsOnly(
  fields: ReadonlySet<string>,
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) return fields.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsOnly(fields, selection.selectionSet, fragments);
    const fragment = fragments.get(selection.name.value);
    return fragment !== undefined && selectsOnly(fields, fragment.selectionSet, fragments);
  });
}

/** The fields a selection set selects, each fragment counted where it is spread; counting stops at `stopAt`. */
function fieldsIn(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, stopAt: number): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (count >= stopAt) break;
    if (selection.kind === Kind.FIELD) {
      count += 1 + (selection.selectionSet ? fieldsIn(selection.selectionSet, fragments, stopAt - count - 1) : 0);
    } else {
      const inner = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
      // A fragment that is not there cannot be run: counted as too many.
      count += inner ? fieldsIn(inner, fragments, stopAt - count) : stopAt;
    }
  }
  return count;
}

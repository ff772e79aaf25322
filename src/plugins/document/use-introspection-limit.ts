import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getOperationAST,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { RateLimiter } from '../../callers/rate-limit.ts';
import type { Context } from '../../context.ts';
import { FacadeError } from '../../errors.ts';
import { LIMITS } from '../../limits.ts';

const SCHEMA_FIELDS = new Set(['__schema', '__type']);

/**
 * Bounds introspection, which needs no token and answers ~20 KB per `__schema`: 30 aliased
 * ones made a 584 KB answer, and a flood of them slowed every other caller (issue 21).
 *
 * - Per operation: at most `maxSelections` `__schema`/`__type` selections, counted through
 *   fragments (a fragment spread three times counts three times); past it the document is
 *   invalid (HTTP 400 `GRAPHQL_VALIDATION_FAILED`), before anything runs.
 * - Per caller: an operation that introspects takes one token from the caller's own
 *   introspection bucket (`limiter`, in Redis when REDIS_URL is set, so that the replicas
 *   share it); an empty bucket answers `RATE_LIMITED` with `retryAfterMs`, before execution.
 *   Callers are told apart as the rate limit tells them (src/callers/authenticate.ts).
 */
export function useIntrospectionLimit({
  maxSelections = LIMITS.schemaSelections.value,
  limiter,
}: {
  maxSelections?: number;
  limiter: RateLimiter;
}): Plugin<Context> {
  const counted = new WeakMap<DocumentNode, Map<string | undefined, number>>();
  const countOf = (document: DocumentNode, operationName: string | undefined): number => {
    let byOperation = counted.get(document);
    if (!byOperation) counted.set(document, (byOperation = new Map<string | undefined, number>()));
    let count = byOperation.get(operationName);
    if (count === undefined) {
      const operation = getOperationAST(document, operationName);
      count = operation ? schemaSelections(document, operation) : 0;
      byOperation.set(operationName, count);
    }
    return count;
  };

  const rule: ValidationRule = (context) => ({
    OperationDefinition(operation) {
      const count = schemaSelections(context.getDocument(), operation);
      if (count > maxSelections) {
        context.reportError(
          new GraphQLError(`Introspection limit: ${count} __schema/__type selections in one operation, at most ${maxSelections} allowed`, {
            nodes: [operation],
          }),
        );
      }
    },
  });

  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const { document, operationName } = args as { document: DocumentNode; operationName?: string | null };
      if (countOf(document, operationName ?? undefined) === 0) return;
      const retryAfterMs = await limiter.take(`introspection:${args.contextValue.caller.key}`);
      if (retryAfterMs === undefined) return;
      setResultAndStopExecution({
        errors: [
          new FacadeError('RATE_LIMITED', `Too many introspection queries from this caller; try again in ${retryAfterMs} ms`, undefined, {
            extensions: { retryAfterMs },
          }),
        ],
      });
    },
  };
}

/** `__schema` and `__type` fields an operation selects, fragments expanded (validation refuses cycles). */
function schemaSelections(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const ofFragment = new Map<string, number>();
  const visiting = new Set<string>();
  const count = (selectionSet: SelectionSetNode): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (SCHEMA_FIELDS.has(selection.name.value)) total += 1;
        if (selection.selectionSet) total += count(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += count(selection.selectionSet);
      } else {
        const name = selection.name.value;
        let inFragment = ofFragment.get(name);
        if (inFragment === undefined) {
          const fragment = fragments.get(name);
          // A cycle (which validation reports itself) or an unknown fragment counts nothing.
          if (!fragment || visiting.has(name)) continue;
          visiting.add(name);
          inFragment = count(fragment.selectionSet);
          visiting.delete(name);
          ofFragment.set(name, inFragment);
        }
        total += inFragment;
      }
    }
    return total;
  };
  return count(operation.selectionSet);
}

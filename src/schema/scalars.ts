import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.ts';

// Accepts what `Date#toISOString` prints and its common shorter forms, always with an offset:
// an input without one would silently mean "server local time".
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' && ISO_DATE_TIME.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError('DateTime must be an ISO-8601 date-time string with an offset, e.g. 2022-01-24T14:15:22Z', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}

builder.scalarType('DateTime', {
  description: 'A point in time, as an ISO-8601 string in UTC (for example 2022-01-24T14:15:22.000Z).',
  serialize: (value) => {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new TypeError('DateTime cannot serialize a value that is not a valid Date');
    }
    return value.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

// Response shapes shared by the routes, for /openapi.json. Each keeps additionalProperties, so a
// field added to the result later is sent rather than silently dropped by the serializer.
import { RESULT_FIELDS } from '../core/types.js';

const BOOLEAN_FIELDS = new Set(['is_role_based', 'is_free_provider', 'is_disposable', 'is_catch_all', 'duplicate']);
const INTEGER_FIELDS = new Set(['score', 'credits_charged']);

export const RESULT_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: Object.fromEntries(
    RESULT_FIELDS.map((field) => [
      field,
      { type: BOOLEAN_FIELDS.has(field) ? 'boolean' : INTEGER_FIELDS.has(field) ? 'integer' : 'string' },
    ]),
  ),
} as const;

export const OPEN_OBJECT = { type: 'object', additionalProperties: true } as const;

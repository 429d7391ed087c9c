import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// Two validators: query strings and path parameters arrive as text and are coerced ("limit=50" → 50,
// a repeated key → an array); JSON bodies are taken as sent, so `{"priority_override": 0}` is an error
// rather than coerced to null. Unknown fields are errors (400 naming the field), never silently dropped.
const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };

function build(options: Options): Ajv {
  const ajv = new Ajv({ ...common, ...options });
  addFormats.default(ajv);
  return ajv;
}

export const validation = fp(
  async (app: FastifyInstance) => {
    const text = build({ coerceTypes: 'array' });
    const json = build({ coerceTypes: false });
    app.setValidatorCompiler(({ schema, httpPart }) => {
      if (httpPart !== 'body') return text.compile(schema);
      // A POST without a body is an empty object: `curl -X POST .../tests/start` needs no `-d '{}'`.
      const validate = json.compile(schema);
      const check = (data: unknown) => {
        const ok = validate(data ?? {});
        check.errors = validate.errors;
        return ok;
      };
      check.errors = validate.errors;
      return check;
    });
  },
  { name: 'validation' },
);

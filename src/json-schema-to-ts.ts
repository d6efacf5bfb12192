/**
 * @module json-schema-to-ts
 * The `salvo/json-schema-to-ts` entry point: a type provider that types
 * routes from their JSON Schemas with json-schema-to-ts's FromSchema.
 * Types only (the compiled file exports nothing).  It is a separate entry
 * point so that the package root never refers to json-schema-to-ts: only
 * a project that imports this file needs it installed (an optional peer
 * dependency).
 *
 *   import type { JsonSchemaToTsProvider } from 'salvo/json-schema-to-ts';
 *   const app = new App().withTypeProvider<JsonSchemaToTsProvider>();
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { TypeProvider } from './type-provider';

export interface JsonSchemaToTsProvider extends TypeProvider {
  readonly output: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
}

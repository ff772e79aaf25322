/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment DeviceFields on Device {\n  id\n  liveMode\n  referenceId\n  locations {\n    id\n  }\n  manufacturer\n  modelCode\n  modelName\n  timeCreated\n  accountId\n  lastSeen\n  flexEnabled\n  properties {\n    powerRatingImportKwh\n    capacityKwh\n    powerRatingExportKwh\n    pvAzimuth\n    pvTilt\n    pvTerrainShading\n    pvForecastsEnabled\n    installDate\n  }\n}\n\nquery DeviceById($id: ID!) {\n  device(id: $id) {\n    ...DeviceFields\n  }\n}\n\nquery DevicesByIds($ids: [ID!]!) {\n  devices(ids: $ids) {\n    ...DeviceFields\n  }\n}\n\nquery DeviceIdsOnly($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n  }\n}\n\nquery ServiceSdl {\n  _service {\n    sdl\n  }\n}\n\nquery DeviceEntities($representations: [_Any!]!) {\n  _entities(representations: $representations) {\n    ... on Device {\n      id\n      modelName\n    }\n  }\n}": typeof types.DeviceFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment DeviceFields on Device {\n  id\n  liveMode\n  referenceId\n  locations {\n    id\n  }\n  manufacturer\n  modelCode\n  modelName\n  timeCreated\n  accountId\n  lastSeen\n  flexEnabled\n  properties {\n    powerRatingImportKwh\n    capacityKwh\n    powerRatingExportKwh\n    pvAzimuth\n    pvTilt\n    pvTerrainShading\n    pvForecastsEnabled\n    installDate\n  }\n}\n\nquery DeviceById($id: ID!) {\n  device(id: $id) {\n    ...DeviceFields\n  }\n}\n\nquery DevicesByIds($ids: [ID!]!) {\n  devices(ids: $ids) {\n    ...DeviceFields\n  }\n}\n\nquery DeviceIdsOnly($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n  }\n}\n\nquery ServiceSdl {\n  _service {\n    sdl\n  }\n}\n\nquery DeviceEntities($representations: [_Any!]!) {\n  _entities(representations: $representations) {\n    ... on Device {\n      id\n      modelName\n    }\n  }\n}": types.DeviceFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment DeviceFields on Device {\n  id\n  liveMode\n  referenceId\n  locations {\n    id\n  }\n  manufacturer\n  modelCode\n  modelName\n  timeCreated\n  accountId\n  lastSeen\n  flexEnabled\n  properties {\n    powerRatingImportKwh\n    capacityKwh\n    powerRatingExportKwh\n    pvAzimuth\n    pvTilt\n    pvTerrainShading\n    pvForecastsEnabled\n    installDate\n  }\n}\n\nquery DeviceById($id: ID!) {\n  device(id: $id) {\n    ...DeviceFields\n  }\n}\n\nquery DevicesByIds($ids: [ID!]!) {\n  devices(ids: $ids) {\n    ...DeviceFields\n  }\n}\n\nquery DeviceIdsOnly($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n  }\n}\n\nquery ServiceSdl {\n  _service {\n    sdl\n  }\n}\n\nquery DeviceEntities($representations: [_Any!]!) {\n  _entities(representations: $representations) {\n    ... on Device {\n      id\n      modelName\n    }\n  }\n}"): (typeof documents)["fragment DeviceFields on Device {\n  id\n  liveMode\n  referenceId\n  locations {\n    id\n  }\n  manufacturer\n  modelCode\n  modelName\n  timeCreated\n  accountId\n  lastSeen\n  flexEnabled\n  properties {\n    powerRatingImportKwh\n    capacityKwh\n    powerRatingExportKwh\n    pvAzimuth\n    pvTilt\n    pvTerrainShading\n    pvForecastsEnabled\n    installDate\n  }\n}\n\nquery DeviceById($id: ID!) {\n  device(id: $id) {\n    ...DeviceFields\n  }\n}\n\nquery DevicesByIds($ids: [ID!]!) {\n  devices(ids: $ids) {\n    ...DeviceFields\n  }\n}\n\nquery DeviceIdsOnly($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n  }\n}\n\nquery ServiceSdl {\n  _service {\n    sdl\n  }\n}\n\nquery DeviceEntities($representations: [_Any!]!) {\n  _entities(representations: $representations) {\n    ... on Device {\n      id\n      modelName\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
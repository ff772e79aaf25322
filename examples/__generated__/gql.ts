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
    "mutation CreateDevice($input: CreateDeviceInput!) {\n  createDevice(input: $input) {\n    device {\n      id\n      referenceId\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}": typeof types.CreateDeviceDocument,
    "query DeviceDetail($id: ID!) {\n  device(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}": typeof types.DeviceDetailDocument,
    "query DeviceList($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n    modelName\n    manufacturer\n    lastSeen\n  }\n}": typeof types.DeviceListDocument,
    "fragment DevicePropertiesCard on DeviceProperties {\n  capacityKwh\n  powerRatingImportKwh\n  powerRatingExportKwh\n  installDate\n}": typeof types.DevicePropertiesCardFragmentDoc,
    "subscription DeviceUpdated($id: ID!) {\n  deviceUpdated(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}": typeof types.DeviceUpdatedDocument,
    "query MyDevices($first: Int, $after: String) {\n  myDevices(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        modelName\n        manufacturer\n        lastSeen\n        flexEnabled\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.MyDevicesDocument,
    "mutation UpdateDevice($id: ID!, $input: UpdateDeviceInput!) {\n  updateDevice(id: $id, input: $input) {\n    device {\n      id\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}": typeof types.UpdateDeviceDocument,
};
const documents: Documents = {
    "mutation CreateDevice($input: CreateDeviceInput!) {\n  createDevice(input: $input) {\n    device {\n      id\n      referenceId\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}": types.CreateDeviceDocument,
    "query DeviceDetail($id: ID!) {\n  device(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}": types.DeviceDetailDocument,
    "query DeviceList($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n    modelName\n    manufacturer\n    lastSeen\n  }\n}": types.DeviceListDocument,
    "fragment DevicePropertiesCard on DeviceProperties {\n  capacityKwh\n  powerRatingImportKwh\n  powerRatingExportKwh\n  installDate\n}": types.DevicePropertiesCardFragmentDoc,
    "subscription DeviceUpdated($id: ID!) {\n  deviceUpdated(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}": types.DeviceUpdatedDocument,
    "query MyDevices($first: Int, $after: String) {\n  myDevices(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        modelName\n        manufacturer\n        lastSeen\n        flexEnabled\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.MyDevicesDocument,
    "mutation UpdateDevice($id: ID!, $input: UpdateDeviceInput!) {\n  updateDevice(id: $id, input: $input) {\n    device {\n      id\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}": types.UpdateDeviceDocument,
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
export function graphql(source: "mutation CreateDevice($input: CreateDeviceInput!) {\n  createDevice(input: $input) {\n    device {\n      id\n      referenceId\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}"): (typeof documents)["mutation CreateDevice($input: CreateDeviceInput!) {\n  createDevice(input: $input) {\n    device {\n      id\n      referenceId\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DeviceDetail($id: ID!) {\n  device(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}"): (typeof documents)["query DeviceDetail($id: ID!) {\n  device(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DeviceList($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n    modelName\n    manufacturer\n    lastSeen\n  }\n}"): (typeof documents)["query DeviceList($ids: [ID!]!) {\n  devices(ids: $ids) {\n    id\n    modelName\n    manufacturer\n    lastSeen\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment DevicePropertiesCard on DeviceProperties {\n  capacityKwh\n  powerRatingImportKwh\n  powerRatingExportKwh\n  installDate\n}"): (typeof documents)["fragment DevicePropertiesCard on DeviceProperties {\n  capacityKwh\n  powerRatingImportKwh\n  powerRatingExportKwh\n  installDate\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription DeviceUpdated($id: ID!) {\n  deviceUpdated(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}"): (typeof documents)["subscription DeviceUpdated($id: ID!) {\n  deviceUpdated(id: $id) {\n    id\n    modelName\n    manufacturer\n    flexEnabled\n    lastSeen\n    locations {\n      id\n    }\n    properties {\n      ...DevicePropertiesCard\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyDevices($first: Int, $after: String) {\n  myDevices(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        modelName\n        manufacturer\n        lastSeen\n        flexEnabled\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query MyDevices($first: Int, $after: String) {\n  myDevices(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        modelName\n        manufacturer\n        lastSeen\n        flexEnabled\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpdateDevice($id: ID!, $input: UpdateDeviceInput!) {\n  updateDevice(id: $id, input: $input) {\n    device {\n      id\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}"): (typeof documents)["mutation UpdateDevice($id: ID!, $input: UpdateDeviceInput!) {\n  updateDevice(id: $id, input: $input) {\n    device {\n      id\n      modelName\n      manufacturer\n      locations {\n        id\n      }\n      properties {\n        ...DevicePropertiesCard\n      }\n    }\n    userErrors {\n      field\n      message\n      code\n    }\n    clientMutationId\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** A new device. Null and absent fields mean the same: not given. */
export type CreateDeviceInput = {
  /** Your own id for this attempt (at most 255 characters). Send the same id again when you retry after a network error: Flatpeak receives an Idempotency-Key derived from it (and from who you are), so a retried create does not create a second device. */
  clientMutationId?: string | null | undefined;
  /** Flatpeak Locations (loc_…) where the device may be, at most 50. */
  locations?: Array<string> | null | undefined;
  /** Name of the device manufacturer (at most 255 characters). */
  manufacturer?: string | null | undefined;
  /** Device model code, as declared by the manufacturer (at most 255 characters). */
  modelCode?: string | null | undefined;
  /** Model name, as declared by the manufacturer (at most 255 characters). */
  modelName?: string | null | undefined;
  /** Technical properties of the device. */
  properties?: DevicePropertiesInput | null | undefined;
  /** Your reference for the device (at most 255 characters). Signed-in users may leave it out: the device gets their own reference; only references that are theirs are accepted. */
  referenceId?: string | null | undefined;
  /** What kind of asset the device is. */
  type?: DeviceType | null | undefined;
};

/** Technical properties of a device. Every property is optional; on an update, those given replace the current ones and the others stay. */
export type DevicePropertiesInput = {
  /** Energy storage capacity of the device, in kWh; 0 to 1000000. */
  capacityKwh?: number | null | undefined;
  /** When the device was installed: an ISO 8601 date-time with an offset, e.g. 2022-03-22T11:12:21Z. */
  installDate?: string | null | undefined;
  /** Rated power the device can export to the grid, in kW; 0 to 1000000. */
  powerRatingExportKwh?: number | null | undefined;
  /** Rated power the device can import (draw) from the grid, in kW; 0 to 1000000. */
  powerRatingImportKwh?: number | null | undefined;
  /** Azimuth (compass orientation) of the PV panels, in degrees from 0 to 360. */
  pvAzimuth?: number | null | undefined;
  /** Whether Flatpeak should produce PV generation forecasts for this device. */
  pvForecastsEnabled?: boolean | null | undefined;
  /** Whether the surrounding terrain shades the PV panels. */
  pvTerrainShading?: boolean | null | undefined;
  /** Tilt of the PV panels from horizontal, in degrees from 0 to 90. */
  pvTilt?: number | null | undefined;
};

/** What kind of asset a device is, as Flatpeak classifies it. */
export type DeviceType =
  /** A stationary battery. */
  | 'BATTERY_SYSTEM'
  /** An electric vehicle. */
  | 'ELECTRIC_VEHICLE'
  /** An electric vehicle charger. */
  | 'EV_CHARGER'
  /** Any other compatible asset. */
  | 'OTHER'
  /** A photovoltaic (solar) system. */
  | 'PV_SYSTEM';

/** The changes to a device: only the fields given change (null and absent mean the same: unchanged). At least one is needed. */
export type UpdateDeviceInput = {
  /** Your own id for this attempt (at most 255 characters). Send the same id again when you retry after a network error: Flatpeak receives an Idempotency-Key derived from it (and from who you are), so a retried create does not create a second device. */
  clientMutationId?: string | null | undefined;
  /** Flatpeak Locations (loc_…) where the device may be, at most 50; replaces the current list. Signed-in users may only change it on a device of theirs (its reference is one of theirs), not on one they read through a shared location. */
  locations?: Array<string> | null | undefined;
  /** Name of the device manufacturer (at most 255 characters). */
  manufacturer?: string | null | undefined;
  /** Device model code, as declared by the manufacturer (at most 255 characters). */
  modelCode?: string | null | undefined;
  /** Model name, as declared by the manufacturer (at most 255 characters). */
  modelName?: string | null | undefined;
  /** Technical properties to change; the others stay as they are. */
  properties?: DevicePropertiesInput | null | undefined;
  /** A new reference for the device (at most 255 characters). Signed-in users may only change it on a device of theirs (its reference is one of theirs), and only to one of their own references. */
  referenceId?: string | null | undefined;
  /** What kind of asset the device is. */
  type?: DeviceType | null | undefined;
};

export type CreateDeviceMutationVariables = Exact<{
  input: CreateDeviceInput;
}>;


export type CreateDeviceMutation = { __typename: 'Mutation', createDevice: { __typename: 'CreateDevicePayload', clientMutationId: string | null, device: { __typename: 'Device', id: string, referenceId: string, modelName: string, manufacturer: string, locations: Array<{ __typename: 'Location', id: string }>, properties: (
        { __typename: 'DeviceProperties' }
        & { ' $fragmentRefs'?: { 'DevicePropertiesCardFragment': DevicePropertiesCardFragment } }
      ) | null } | null, userErrors: Array<{ __typename: 'DeviceUserError', field: Array<string> | null, message: string, code: string }> } };

export type DeviceDetailQueryVariables = Exact<{
  id: string;
}>;


export type DeviceDetailQuery = { __typename: 'Query', device: { __typename: 'Device', id: string, modelName: string, manufacturer: string, flexEnabled: boolean, lastSeen: string | null, locations: Array<{ __typename: 'Location', id: string }>, properties: (
      { __typename: 'DeviceProperties' }
      & { ' $fragmentRefs'?: { 'DevicePropertiesCardFragment': DevicePropertiesCardFragment } }
    ) | null } | null };

export type DeviceListQueryVariables = Exact<{
  ids: Array<string> | string;
}>;


export type DeviceListQuery = { __typename: 'Query', devices: Array<{ __typename: 'Device', id: string, modelName: string, manufacturer: string, lastSeen: string | null } | null> };

export type DevicePropertiesCardFragment = { __typename: 'DeviceProperties', capacityKwh: number | null, powerRatingImportKwh: number | null, powerRatingExportKwh: number | null, installDate: string | null } & { ' $fragmentName'?: 'DevicePropertiesCardFragment' };

export type DeviceUpdatedSubscriptionVariables = Exact<{
  id: string;
}>;


export type DeviceUpdatedSubscription = { deviceUpdated: { __typename: 'Device', id: string, modelName: string, manufacturer: string, flexEnabled: boolean, lastSeen: string | null, locations: Array<{ __typename: 'Location', id: string }>, properties: (
      { __typename: 'DeviceProperties' }
      & { ' $fragmentRefs'?: { 'DevicePropertiesCardFragment': DevicePropertiesCardFragment } }
    ) | null } };

export type MyDevicesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type MyDevicesQuery = { __typename: 'Query', myDevices: { __typename: 'DeviceConnection', edges: Array<{ __typename: 'DeviceEdge', cursor: string, node: { __typename: 'Device', id: string, modelName: string, manufacturer: string, lastSeen: string | null, flexEnabled: boolean } | null }>, pageInfo: { __typename: 'DevicePageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type UpdateDeviceMutationVariables = Exact<{
  id: string;
  input: UpdateDeviceInput;
}>;


export type UpdateDeviceMutation = { __typename: 'Mutation', updateDevice: { __typename: 'UpdateDevicePayload', clientMutationId: string | null, device: { __typename: 'Device', id: string, modelName: string, manufacturer: string, locations: Array<{ __typename: 'Location', id: string }>, properties: (
        { __typename: 'DeviceProperties' }
        & { ' $fragmentRefs'?: { 'DevicePropertiesCardFragment': DevicePropertiesCardFragment } }
      ) | null } | null, userErrors: Array<{ __typename: 'DeviceUserError', field: Array<string> | null, message: string, code: string }> } };

export const DevicePropertiesCardFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DevicePropertiesCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceProperties"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"capacityKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingImportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingExportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"installDate"}}]}}]} as unknown as DocumentNode<DevicePropertiesCardFragment, unknown>;
export const CreateDeviceDocument = {"__meta__":{"hash":"350828a4d7435074a57bd23f553a6a892df5b034ee8971f6294a32eabb41a2dc"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateDevice"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateDeviceInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"createDevice"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"referenceId"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"manufacturer"}},{"kind":"Field","name":{"kind":"Name","value":"locations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"properties"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"DevicePropertiesCard"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}},{"kind":"Field","name":{"kind":"Name","value":"clientMutationId"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DevicePropertiesCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceProperties"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"capacityKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingImportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingExportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"installDate"}}]}}]} as unknown as DocumentNode<CreateDeviceMutation, CreateDeviceMutationVariables>;
export const DeviceDetailDocument = {"__meta__":{"hash":"d6148538fa149c851fd26a1fa057ebbb1d1a659bf06e1df8745fc34120931402"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DeviceDetail"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"manufacturer"}},{"kind":"Field","name":{"kind":"Name","value":"flexEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}},{"kind":"Field","name":{"kind":"Name","value":"locations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"properties"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"DevicePropertiesCard"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DevicePropertiesCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceProperties"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"capacityKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingImportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingExportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"installDate"}}]}}]} as unknown as DocumentNode<DeviceDetailQuery, DeviceDetailQueryVariables>;
export const DeviceListDocument = {"__meta__":{"hash":"8d5769cb5088ed955bc27b60903cc81e2097fd2dbe14b29a7c353d9f18eb5802"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DeviceList"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"ids"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"ids"},"value":{"kind":"Variable","name":{"kind":"Name","value":"ids"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"manufacturer"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}}]}}]}}]} as unknown as DocumentNode<DeviceListQuery, DeviceListQueryVariables>;
export const DeviceUpdatedDocument = {"__meta__":{"hash":"d5510f73fb67a05d6934921c5077d6653ab22c1f4422cec7c9a09e89c30154bf"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"DeviceUpdated"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deviceUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"manufacturer"}},{"kind":"Field","name":{"kind":"Name","value":"flexEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}},{"kind":"Field","name":{"kind":"Name","value":"locations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"properties"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"DevicePropertiesCard"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DevicePropertiesCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceProperties"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"capacityKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingImportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingExportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"installDate"}}]}}]} as unknown as DocumentNode<DeviceUpdatedSubscription, DeviceUpdatedSubscriptionVariables>;
export const MyDevicesDocument = {"__meta__":{"hash":"bba109d6cce61ec7ef3743b93a80fcc23009e1273f63bcf30d8868864c76f090"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MyDevices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"myDevices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"manufacturer"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}},{"kind":"Field","name":{"kind":"Name","value":"flexEnabled"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<MyDevicesQuery, MyDevicesQueryVariables>;
export const UpdateDeviceDocument = {"__meta__":{"hash":"74c95b4cf5e8d7a5a7986a5b671dfaa4954a656539fc2c14cd2b3eae429f6851"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateDevice"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateDeviceInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"updateDevice"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"manufacturer"}},{"kind":"Field","name":{"kind":"Name","value":"locations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"properties"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"DevicePropertiesCard"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}},{"kind":"Field","name":{"kind":"Name","value":"clientMutationId"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DevicePropertiesCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceProperties"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"capacityKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingImportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"powerRatingExportKwh"}},{"kind":"Field","name":{"kind":"Name","value":"installDate"}}]}}]} as unknown as DocumentNode<UpdateDeviceMutation, UpdateDeviceMutationVariables>;
import type { GraphiQLOptions } from 'graphql-yoga';
import type { GraphiQLAssets } from './graphiql-assets.ts';

/**
 * The device of Flatpeak's "Retrieve a device" documentation page: the example query names
 * it (the development stand-in, tools/standin, serves it too).
 */
const EXAMPLE_DEVICE_ID = 'dev_63a6087272941ef077a8fd3e';

export const EXAMPLE_QUERY = /* GraphQL */ `# flatpeak-graph: Flatpeak devices over GraphQL.
# Press the run button (or Ctrl-Enter). Open "Docs" for every type and field.
query SeedDevice {
  device(id: "${EXAMPLE_DEVICE_ID}") {
    id
    referenceId
    manufacturer
    modelName
    modelCode
    liveMode
    flexEnabled
    timeCreated
    lastSeen
    locations {
      id
    }
    properties {
      capacityKwh
      powerRatingImportKwh
      powerRatingExportKwh
      pvAzimuth
      pvTilt
      installDate
    }
  }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: 'flatpeak-graph',
  defaultQuery: EXAMPLE_QUERY,
};

/**
 * GraphiQL's page: small HTML that loads the bundle's files from `assets` (content-hashed,
 * immutable, compressed; see graphiql-assets.ts). Rendered per visit: it is a few KB.
 */
export function createGraphiQLRenderer(assets: GraphiQLAssets): (options: GraphiQLOptions) => Promise<string> {
  return (options) => assets.page(options);
}

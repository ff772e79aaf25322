import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { SEED_DEVICE_ID } from './standin/data.ts';

export const EXAMPLE_QUERY = /* GraphQL */ `# flatpeak-graph: Flatpeak devices over GraphQL.
# Press the run button (or Ctrl-Enter). Open "Docs" for every type and field.
query SeedDevice {
  device(id: "${SEED_DEVICE_ID}") {
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
 * GraphiQL with its assets inlined (the `@graphql-yoga/render-graphiql` bundle), so it
 * works without reaching a CDN. The page is ~9 MB, so it is rendered once, not per visit.
 */
export function createGraphiQLRenderer(): (options: GraphiQLOptions) => string {
  const rendered = new Map<string, string>();
  return (options) => {
    const key = JSON.stringify(options);
    let html = rendered.get(key);
    if (html === undefined) {
      html = renderGraphiQL(options);
      rendered.set(key, html);
    }
    return html;
  };
}

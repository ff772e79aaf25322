import type { GraphiQLOptions } from 'graphql-yoga';

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
 * GraphiQL with its assets inlined (the `@graphql-yoga/render-graphiql` bundle), so it
 * works without reaching a CDN. The bundle is ~9 MB: it is imported on the first visit,
 * not at start-up (a service nobody opens GraphiQL on never holds it; idle memory matters
 * per replica), and the page is rendered once, not per visit.
 */
export function createGraphiQLRenderer(): (options: GraphiQLOptions) => Promise<string> {
  const rendered = new Map<string, Promise<string>>();
  return (options) => {
    const key = JSON.stringify(options);
    let html = rendered.get(key);
    if (html === undefined) {
      html = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
      rendered.set(key, html);
    }
    return html;
  };
}

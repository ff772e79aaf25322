import { builder } from '../builder.ts';

export const LocationRef = builder.objectRef<{ id: string }>('Location').implement({
  description:
    'A Flatpeak Location: a place where devices may be located. Owned by the locations subgraph; this service knows only its ID.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Flatpeak unique object id of the location (loc_…).' }),
  }),
});

// Location belongs to another subgraph; this one only hands out references to it, so the
// key is `resolvable: false` and the router never asks this service to resolve one.
builder.asEntity(LocationRef, {
  key: builder.keyDirective(builder.selection<{ id: string }>('id'), false),
  resolveReference: (reference) => reference,
});

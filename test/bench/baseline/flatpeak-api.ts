import { type AugmentedRequest, type DataSourceConfig, RESTDataSource } from '@apollo/datasource-rest';

/** Flatpeak's device, as its REST API sends it (only what the schema reads). */
export interface FlatpeakDevice {
  id: string;
  live_mode: boolean;
  reference_id: string;
  locations?: string[];
  manufacturer?: string;
  model_code?: string;
  model_name?: string;
  time_created: string;
  account_id: string;
  last_seen?: string;
  flex_enabled?: boolean;
  properties?: Record<string, unknown>;
}

/**
 * The data source as Apollo's "Fetching from REST" page teaches it: one instance per
 * request (so GETs are deduplicated within that request), the server's cache passed in, the
 * credential added in `willSendRequest`. Nothing else configured.
 */
export class FlatpeakAPI extends RESTDataSource {
  private readonly token: string;

  constructor(options: { baseURL: string; token: string; cache: DataSourceConfig['cache'] }) {
    super(options);
    this.baseURL = options.baseURL;
    this.token = options.token;
  }

  override willSendRequest(_path: string, request: AugmentedRequest): void {
    request.headers['authorization'] = `Bearer ${this.token}`;
  }

  async getDevice(id: string): Promise<FlatpeakDevice> {
    return this.get<FlatpeakDevice>(`devices/${encodeURIComponent(id)}`);
  }
}

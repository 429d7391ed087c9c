import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../config/config.js';

// The intel variables (issue 14): validated like every other, a bad value names the variable, the key is a
// secret, the rate limit follows NVD's published one unless set.
describe('intel configuration', () => {
  it('NVD publishes 5 per 30 s without a key and 50 with one; NVD_RATE_LIMIT overrides', () => {
    expect(loadConfig({}).intel.nvd).toMatchObject({ rateLimit: 5, windowMs: 30_000, url: 'https://services.nvd.nist.gov/rest/json/cves/2.0' });
    expect(loadConfig({ NVD_API_KEY: 'k' }).intel.nvd).toMatchObject({ rateLimit: 50, apiKey: 'k' });
    expect(loadConfig({ NVD_API_KEY: 'k', NVD_RATE_LIMIT: '10', NVD_RATE_WINDOW_SECONDS: '60' }).intel.nvd).toMatchObject({ rateLimit: 10, windowMs: 60_000 });
    expect(loadConfig({ NVD_API_KEY: '' }).intel.nvd.apiKey).toBeUndefined();
  });

  it.each([
    ['NVD_URL', 'ftp://mirror/nvd'],
    ['EPSS_URL', 'not a url'],
    ['KEV_URL', 'file:///etc/passwd'],
    ['NVD_RATE_LIMIT', 'fast'],
    ['INTEL_NVD_STALE_HOURS', '1'],
    ['NVD_BACKOFF_SECONDS', '0'],
    ['INTEL_AFTER_SYNC', 'sometimes'],
  ])('%s=%s is a configuration error naming it', (variable, value) => {
    let err: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(variable);
  });
});

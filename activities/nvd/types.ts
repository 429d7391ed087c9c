import type { NvdCve } from '../../domain/cvss.js';

export type { NvdCve };

/** The NVD CVE API 2.0 envelope. */
export interface NvdPage {
  resultsPerPage: number;
  startIndex: number;
  totalResults: number;
  format: string;
  version: string;
  timestamp: string;
  vulnerabilities: { cve: NvdCve }[];
}

/** A lastModStartDate / lastModEndDate window (NVD allows at most 120 days). */
export interface NvdWindow {
  start: Date;
  end: Date;
}

export const NVD_MAX_WINDOW_DAYS = 120;
export const NVD_MAX_RESULTS_PER_PAGE = 2000;

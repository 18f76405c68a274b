/** The version the master reports in SUBSCRIBED, /state and the operator API. */
export const MASTER_VERSION = '0.1.0';

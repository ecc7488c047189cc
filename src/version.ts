// The version reported by /version, `sflowscope --version` and the Status page.
export const VERSION = '0.1.0';

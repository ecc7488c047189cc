// Public surface of the sFlow wire-format layer.
export { decodeDatagram, SAMPLE_TAGS, FLOW_RECORDS, COUNTER_RECORDS } from './decode.js';
export { encodeDatagram } from './encode.js';
export { flowRecordDefs } from './flow-records.js';
export { counterRecordDefs } from './counter-records.js';
export { tagOf, tagName } from './tags.js';
export { hex } from './xdr.js';
export type * from './types.js';
export type * from './flow-records.js';
export type * from './counter-records.js';
export { dataSourceName, parseDataSourceName, interfaceKey, IFINDEX_INTERNAL } from './datasource.js';
export { DecodeStats } from './stats.js';

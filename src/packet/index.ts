// Sampled-header dissector: sFlow sampled_header bytes → sFlow-RT flow attributes and `stack`.
// Hot path: parsePacket() once per sampled header, then the readers compiled by keyReader().
export {
  dissect,
  configureDissector,
  isFlowAttributes,
  DEFAULT_DISSECTOR_OPTIONS,
  EXTRA_KEYS,
  HEADER_PROTOCOL,
  type DissectorOptions,
  type FlowAttributes,
} from './dissect.js';
export { PacketView, parsePacket, sharedView, MAX_LAYERS } from './view.js';
export { keyReader, attributeNames, LAYER_KEYS, type KeyReader } from './keys.js';
export { TOKENS, type Token } from './stack.js';
export { formatIp6 } from './format.js';

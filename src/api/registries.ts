// Route plugins of the groups / maps / thresholds / events / state-file part of the API.

import type { ApiPlugin } from './index.js';
import eventRoutes from './events.js';
import groupRoutes from './groups.js';
import mapRoutes from './maps.js';
import stateRoutes from './state.js';
import thresholdRoutes from './thresholds.js';

export const REGISTRY_API_PLUGINS: readonly ApiPlugin[] = [groupRoutes, mapRoutes, thresholdRoutes, eventRoutes, stateRoutes];

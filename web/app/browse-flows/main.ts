// Flow Browser (sFlow-RT browse-flows, reference §6.2).
import '../../shared/styles.css';
import '../../shared/nav.js';
import { initTheme } from '../../shared/theme.js';
import { defineTopBrowser } from '../../shared/top-browser.js';

initTheme();
defineTopBrowser({
  app: 'browse-flows',
  title: 'Flow Browser',
  statePrefix: 'flow_browser_',
  defaults: { keys: 'ipsource,ipdestination', value: 'bps', filter: '' },
  examples: { keys: 'ipsource,ipdestination', value: 'bps', filter: 'ipprotocol=6' },
});

// Discard Browser (sFlow-RT browse-drops, reference §6.3): the Flow Browser over dropped packets,
// by default broken out by reason and the namespaces of source and destination (`-` when the
// address is not a known pod: outside the cluster, or Kubernetes names are off).
import '../../shared/styles.css';
import '../../shared/nav.js';
import { initTheme } from '../../shared/theme.js';
import { defineTopBrowser } from '../../shared/top-browser.js';

initTheme();
defineTopBrowser({
  app: 'browse-drops',
  title: 'Discard Browser',
  statePrefix: 'drop_browser_',
  defaults: { keys: 'reason,null:[k8s:ipsource:namespace]:-,null:[k8s:ipdestination:namespace]:-', value: 'fps', filter: '' },
  examples: { keys: 'reason,agent,inputifindex', value: 'fps', filter: "reason='no_buffer_space'" },
});

// Sets the theme before the first paint (a module script runs too late and the page would flash).
// A file rather than an inline script so that the Content-Security-Policy can say script-src 'self'.
try {
  var t = localStorage.getItem('sflowscope_theme');
  document.documentElement.dataset.theme = t || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
} catch (e) {}

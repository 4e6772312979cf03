// Guesses a human device name ("Chrome on Linux") and a type (desktop, phone, tablet, tv) from
// the browser. Only a prefill: the user can edit both before signing in.

const TV = /SmartTV|SMART-TV|Tizen|Web0S|webOS|HbbTV|BRAVIA|AFT[A-Z]|CrKey|GoogleTV|Android TV|AppleTV|Roku|PlayStation|Xbox/i;

/** Browser name from User-Agent Client Hints brands or the UA string. */
function browserName(ua, brands) {
  const names = (brands ?? []).map((b) => b.brand);
  for (const [brand, label] of [
    ['Microsoft Edge', 'Edge'], ['Opera', 'Opera'], ['Brave', 'Brave'], ['Vivaldi', 'Vivaldi'],
    ['Google Chrome', 'Chrome'], ['HeadlessChrome', 'Chrome'], ['Chromium', 'Chrome'],
  ]) {
    if (names.includes(brand)) return label;
  }
  if (/Edg\//.test(ua)) return 'Edge';
  if (/OPR\//.test(ua)) return 'Opera';
  if (/SamsungBrowser/.test(ua)) return 'Samsung Internet';
  if (/Firefox\/|FxiOS/.test(ua)) return 'Firefox';
  if (/Chrome\/|CriOS|Chromium/.test(ua)) return 'Chrome';
  if (/Safari\//.test(ua)) return 'Safari';
  return 'Browser';
}

/** Operating system, preferring the UA-CH platform. */
function osName(ua, platform) {
  if (platform) {
    if (/^mac/i.test(platform)) return 'macOS';
    if (/chrome ?os/i.test(platform)) return 'ChromeOS';
    return platform;
  }
  if (/iPhone|iPad|iPod/.test(ua)) return 'iOS';
  if (/Android/.test(ua)) return 'Android';
  if (/CrOS/.test(ua)) return 'ChromeOS';
  if (/Windows/.test(ua)) return 'Windows';
  if (/Mac OS X|Macintosh/.test(ua)) return 'macOS';
  if (/Tizen/.test(ua)) return 'Tizen';
  if (/Web0S|webOS/.test(ua)) return 'webOS';
  if (/Linux/.test(ua)) return 'Linux';
  return '';
}

/** Device type: one of the <select> values. */
export function deviceType(ua, { mobile, touchPoints = 0 } = {}) {
  if (TV.test(ua)) return 'tv';
  if (/iPad|Tablet|PlayBook|Silk/.test(ua)) return 'tablet';
  // iPadOS asks for desktop sites and says "Macintosh"; touch gives it away.
  if (/Macintosh/.test(ua) && touchPoints > 1) return 'tablet';
  if (/Android/.test(ua) && !/Mobile/.test(ua)) return 'tablet';
  if (mobile || /Mobi|iPhone|iPod|Android|Windows Phone/.test(ua)) return 'phone';
  return 'desktop';
}

/** `{name, type}` for this browser. */
export function describeDevice(nav = globalThis.navigator) {
  const ua = nav?.userAgent ?? '';
  const ch = nav?.userAgentData;
  const browser = browserName(ua, ch?.brands);
  const os = osName(ua, ch?.platform);
  const type = deviceType(ua, { mobile: ch?.mobile, touchPoints: nav?.maxTouchPoints ?? 0 });
  return { name: os ? `${browser} on ${os}` : browser, type };
}

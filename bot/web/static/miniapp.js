// The Telegram Mini App's sign-in: Telegram opens /web/app with its signed init data in
// the address's fragment (#tgWebAppData=…), which never reaches a server by itself; hand it
// to /web/telegram, which checks the signature with the bot's token.
(function () {
  "use strict";
  var found = /(?:^#|&)tgWebAppData=([^&]*)/.exec(window.location.hash);
  var form = document.getElementById("miniapp");
  if (!found || !form) {
    var missing = document.getElementById("nodata");
    if (missing) { missing.hidden = false; }
    return;
  }
  form.elements.init_data.value = decodeURIComponent(found[1]);
  history.replaceState(null, "", window.location.pathname);  // drop it from the address
  form.submit();
})();

// Submit the filter form as soon as a menu or the to-do toggle changes; the
// Apply button keeps the form usable without script.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el instanceof HTMLElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});

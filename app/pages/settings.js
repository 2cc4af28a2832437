// The desktop app's settings page: reads and writes the mode through the
// bound methods window.go.app.App.GetSettings / SaveSettings.
(function () {
  'use strict';
  var zh = /^zh/i.test(navigator.language || '');
  var T = zh ? {
    title: '桌面应用设置', back: '返回控制台', where: '商城在哪里运行？',
    local: '在这台电脑上', localDesc: '商城在本应用内运行，数据保存在您的用户文件夹中，无需网络。',
    listen: '同时在网络上提供店面', listenAddr: '地址和端口',
    listenHelp: '0.0.0.0:8080 让网络中的手机和电脑打开店面；127.0.0.1:8080 仅限本机。',
    listenWarn: '能访问此地址的任何人都能看到店面和登录页。请为员工账户设置强密码。',
    remote: '在 saasmall 服务器上', remoteDesc: '登录贵公司托管的商城，应用通过网络连接到它。',
    remoteURL: '服务器地址', remoteHelp: '切换前，应用会检查服务器是否响应。',
    save: '保存并切换', cancel: '取消', saving: '正在检查并切换…', saved: '已保存，正在打开控制台…',
    failed: '未保存：', nobridge: '这些是 saasmall 桌面应用的设置。请从应用菜单打开此页：saasmall → 设置…。',
    version: 'saasmall 桌面应用 版本 '
  } : {
    saving: 'Checking and switching…', saved: 'Saved. Opening the console…', failed: 'Not saved: ', version: 'saasmall desktop app, version '
  };
  document.documentElement.lang = zh ? 'zh-Hans' : 'en';
  if (zh) {
    document.title = T.title + ' · saasmall';
    Array.prototype.forEach.call(document.querySelectorAll('[data-t]'), function (el) {
      var k = el.getAttribute('data-t');
      if (T[k]) el.textContent = T[k];
    });
  }

  var app = window.go && window.go.app && window.go.app.App;
  if (!app) {
    document.getElementById('nobridge').hidden = false;
    return;
  }
  var form = document.getElementById('form');
  var listenOn = document.getElementById('listenOn');
  var listenAddr = document.getElementById('listenAddr');
  var remoteURL = document.getElementById('remoteURL');
  var status = document.getElementById('status');
  var save = document.getElementById('save');

  function mode() {
    var c = form.querySelector('input[name=mode]:checked');
    return c ? c.value : 'local';
  }
  function sync() {
    var m = mode();
    document.getElementById('localSub').hidden = m !== 'local';
    document.getElementById('remoteSub').hidden = m !== 'remote';
    document.getElementById('listenSub').hidden = !listenOn.checked;
    document.getElementById('choice-local').classList.toggle('selected', m === 'local');
    document.getElementById('choice-remote').classList.toggle('selected', m === 'remote');
  }
  function clearErrors() {
    ['mode', 'remote_url', 'listen_addr'].forEach(function (f) {
      document.getElementById('err-' + f).textContent = '';
    });
    remoteURL.classList.remove('invalid');
    listenAddr.classList.remove('invalid');
  }
  function showError(err) {
    var text = String(err && err.message ? err.message : err);
    var m = /^(mode|remote_url|listen_addr): ([\s\S]*)$/.exec(text);
    if (m) {
      document.getElementById('err-' + m[1]).textContent = m[2];
      if (m[1] === 'remote_url') { remoteURL.classList.add('invalid'); remoteURL.focus(); }
      if (m[1] === 'listen_addr') { listenAddr.classList.add('invalid'); listenAddr.focus(); }
      status.textContent = '';
    } else {
      status.textContent = T.failed + text;
      status.className = 'bad';
    }
  }

  form.addEventListener('change', sync);
  listenOn.addEventListener('change', function () {
    if (listenOn.checked && !listenAddr.value) listenAddr.value = '0.0.0.0:8080';
    sync();
  });
  document.getElementById('cancel').addEventListener('click', function () { location.href = '/console/'; });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors();
    var s = {
      mode: mode(),
      remote_url: remoteURL.value.trim(),
      listen_addr: listenOn.checked ? listenAddr.value.trim() : ''
    };
    save.disabled = true;
    status.className = '';
    status.textContent = T.saving;
    app.SaveSettings(s).then(function () {
      status.className = 'ok';
      status.textContent = T.saved;
      setTimeout(function () { location.href = '/console/'; }, 400);
    }, showError).then(function () { save.disabled = false; });
  });

  app.GetSettings().then(function (s) {
    var m = s.mode === 'remote' ? 'remote' : 'local';
    form.querySelector('input[name=mode][value=' + m + ']').checked = true;
    remoteURL.value = s.remote_url || '';
    listenOn.checked = !!s.listen_addr;
    listenAddr.value = s.listen_addr || '';
    sync();
    form.hidden = false;
    form.querySelector('input[name=mode]:checked').focus(); // arrow keys switch the mode
  }, showError);
  if (app.Version) {
    app.Version().then(function (v) { document.getElementById('version').textContent = T.version + v; });
  }
})();

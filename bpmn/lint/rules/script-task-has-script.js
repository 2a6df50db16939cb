const { is } = require('bpmnlint-utils');

// A script task without a script does nothing at run time: usually a step drawn but not finished.
module.exports = function() {
  function check(node, reporter) {
    if (is(node, 'bpmn:ScriptTask') && !(node.script || '').trim()) {
      reporter.report(node.id, 'Script task has no script', [ 'script' ]);
    }
  }

  return { check };
};

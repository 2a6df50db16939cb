const { isAny } = require('bpmnlint-utils');

// Our engine has no service connectors: automatic work is a script task calling a registered helper.
module.exports = function() {
  function check(node, reporter) {
    if (isAny(node, [ 'bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask' ])) {
      reporter.report(node.id, 'Not run by Qujat: call a helper from a script task instead');
    }
  }

  return { check };
};

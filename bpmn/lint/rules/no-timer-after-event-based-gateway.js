const { is } = require('bpmnlint-utils');

// SpiffWorkflow 3.2 keeps one deadline for all timers behind an event-based gateway: they never fire.
module.exports = function() {
  function isTimer(element) {
    return (element.eventDefinitions || []).some((definition) => is(definition, 'bpmn:TimerEventDefinition'));
  }

  function check(node, reporter) {
    if (!is(node, 'bpmn:EventBasedGateway')) {
      return;
    }
    (node.outgoing || []).forEach((flow) => {
      if (flow.targetRef && isTimer(flow.targetRef)) {
        reporter.report(node.id, 'Timers after an event-based gateway never fire: use a receive task with boundary timers');
      }
    });
  }

  return { check };
};

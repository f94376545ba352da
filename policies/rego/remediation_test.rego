package falconer.remediation_test

import rego.v1

import data.falconer.remediation

base := {
	"inputVersion": 1,
	"action": {"id": "act-1", "kind": "label-pod", "podsAffected": 1, "dryRun": true},
	"target": {"namespace": "shop", "pod": "web-1"},
	"incident": {"id": "inc-1", "severity": "high", "traceId": "0af7651916cd43dd8448eb211c80319c"},
	"analysis": {"verdict": "true_positive", "confidence": 0.95, "severity": "high", "analyst": "llm"},
	"history": {"isolationsLastHour": 0, "actionsLastHour": 0},
	"context": {"falconerNamespace": "falconer"},
}

with_action(kind, pods) := object.union(base, {"action": {"id": "act-1", "kind": kind, "podsAffected": pods, "dryRun": true}})

with_ns(inp, ns) := object.union(inp, {"target": {"namespace": ns, "pod": "web-1"}})

test_label_allowed_without_approval if {
	d := remediation.decision with input as base
	d.allowed
	not d.requiresApproval
	d.approvalsRequired == 0
}

test_protected_namespaces_never_touched if {
	every ns in ["kube-system", "kube-public", "falconer"] {
		d := remediation.decision with input as with_ns(base, ns)
		not d.allowed
		d.reasons == [sprintf("namespace %q is protected: Falconer never acts there", [ns])]
	}
}

test_own_namespace_comes_from_context if {
	inp := object.union(with_ns(base, "secops"), {"context": {"falconerNamespace": "secops"}})
	not remediation.decision.allowed with input as inp
}

test_allowed_actions_per_namespace if {
	d := remediation.decision with input as with_ns(with_action("isolate-pod", 1), "monitoring")
	not d.allowed
	d.reasons == ["action \"isolate-pod\" is not allowed in namespace \"monitoring\""]
	remediation.decision.allowed with input as with_ns(base, "monitoring")
}

test_unknown_action_denied if {
	d := remediation.decision with input as with_action("exec-into-pod", 1)
	not d.allowed
	"unknown action kind \"exec-into-pod\"" in d.reasons
}

test_unsupported_input_version_denied if {
	d := remediation.decision with input as object.union(base, {"inputVersion": 2})
	not d.allowed
	d.reasons == ["unsupported inputVersion 2 (supported: 1)"]
}

test_blast_radius_pods_per_action if {
	d := remediation.decision with input as with_action("scale-owner-to-zero", 6)
	not d.allowed
	d.reasons == ["blast radius: 6 pods affected, the limit is 5 per action"]
	remediation.decision.allowed with input as with_action("scale-owner-to-zero", 5)
}

test_blast_radius_unknown_denied_except_cluster_scoped if {
	not remediation.decision.allowed with input as with_action("delete-pod", null)
	remediation.decision.allowed with input as with_action("block-image", null)
}

test_isolation_limit_per_hour if {
	at_limit := object.union(with_action("isolate-pod", 1), {"history": {"isolationsLastHour": 10}})
	d := remediation.decision with input as at_limit
	not d.allowed
	d.reasons == ["isolation limit reached: 10 isolations in the last hour, the limit is 10"]
	below := object.union(with_action("isolate-pod", 1), {"history": {"isolationsLastHour": 9}})
	remediation.decision.allowed with input as below
}

test_isolation_without_history_denied if {
	inp := json.remove(with_action("isolate-pod", 1), ["history"])
	not remediation.decision.allowed with input as inp
}

test_destructive_always_needs_a_human_even_at_full_confidence if {
	every kind in ["delete-pod", "scale-owner-to-zero", "block-image"] {
		inp := object.union(with_action(kind, 1), {
			"incident": {"id": "inc-1", "severity": "critical", "traceId": "0af7651916cd43dd8448eb211c80319c"},
			"analysis": {"verdict": "true_positive", "confidence": 1, "severity": "critical", "analyst": "llm"},
		})
		d := remediation.decision with input as inp
		d.allowed
		d.requiresApproval
		d.approvalsRequired == 2
	}
}

test_four_eyes_off_means_one_approver if {
	d := remediation.decision with input as with_action("delete-pod", 1)
		with data.falconer.config.approval.fourEyes as false
	d.requiresApproval
	d.approvalsRequired == 1
}

test_isolation_auto_only_with_severity_verdict_and_confidence if {
	remediation.decision.requiresApproval == false with input as with_action("isolate-pod", 1)
	low_conf := object.union(with_action("isolate-pod", 1), {"analysis": {"verdict": "true_positive", "confidence": 0.5, "severity": "high", "analyst": "llm"}})
	remediation.decision.approvalsRequired == 1 with input as low_conf
	review := object.union(with_action("isolate-pod", 1), {"analysis": {"verdict": "needs_review", "confidence": 0.99, "severity": "high", "analyst": "llm"}})
	remediation.decision.requiresApproval with input as review
}

test_llm_severity_cannot_raise_incident_severity if {
	inp := object.union(with_action("isolate-pod", 1), {
		"incident": {"id": "inc-1", "severity": "medium", "traceId": "0af7651916cd43dd8448eb211c80319c"},
		"analysis": {"verdict": "true_positive", "confidence": 0.99, "severity": "critical", "analyst": "llm"},
	})
	remediation.decision.requiresApproval with input as inp
}

test_denied_means_no_approval_asked if {
	d := remediation.decision with input as with_ns(with_action("delete-pod", 1), "kube-system")
	not d.allowed
	not d.requiresApproval
	d.approvalsRequired == 0
}

Profile: HearthReferral
Parent: ServiceRequest
Id: HearthReferral
Title: "Hearth referral"
Description: "A referral to a neighbourhood team or service: who it is for, who asks, which team should act, what kind of referral, how urgent, why, and the consent and information that come with it. Its fulfilment is tracked by a HearthReferralTask."
* obeys hearth-sr-1 and hearth-sr-2
* identifier MS
* status MS
* intent MS
* category 1..* MS
* category from HearthReferralCategoryVS (extensible)
* priority 1..1 MS
* code MS
* subject 1..1 MS
* subject only Reference(HearthPatient)
* requester 1..1 MS
* requester only Reference(HearthPractitionerRole or HearthOrganization or HearthPractitioner)
* performer 1..* MS
* performer only Reference(CareTeam or HealthcareService or HearthOrganization or HearthPractitionerRole)
* authoredOn 1..1 MS
* reasonCode MS
* reasonReference MS
* supportingInfo MS
* supportingInfo ^short = "Information sent with the referral, including the Consent to share it"
* note MS

Profile: HearthReferralTask
Parent: Task
Id: HearthReferralTask
Title: "Hearth referral task"
Description: "The fulfilment of a referral by the receiving team (FHIR workflow: Task with code fulfill and focus the ServiceRequest). Its status is the request/claim state machine; businessStatus the team's triage state; restriction.period the response clock (for urgent community response, two hours)."
* obeys hearth-task-1
* status MS
* businessStatus MS
* businessStatus from HearthTriageOutcomeVS (required)
* statusReason MS
* intent = #order
* priority MS
* code 1..1 MS
* code = $TASKCODE#fulfill
* focus 1..1 MS
* focus only Reference(HearthReferral)
* for 1..1 MS
* for only Reference(HearthPatient)
* authoredOn 1..1 MS
* lastModified MS
* requester 1..1 MS
* requester only Reference(HearthPractitionerRole or HearthOrganization or HearthPractitioner)
* owner MS
* owner only Reference(HealthcareService or HearthOrganization or HearthPractitionerRole)
* restriction MS
* restriction.period MS
* restriction.period ^short = "The response clock: when the team must respond by (period.end)"
* output MS

// Hearth's own code systems (complete: a code outside them is an error wherever
// their system is used) and one value set each.

CodeSystem: HearthReferralCategory
Id: referral-category
Title: "Hearth referral category"
Description: "Kinds of referral a neighbourhood team receives."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #urgent-community-response "Urgent community response" "Crisis response at home, within two hours."
* #step-up "Step-up care" "Intermediate care to avoid a hospital admission."
* #step-down "Step-down care" "Intermediate care after a hospital discharge (Home First)."
* #mdt-review "MDT review" "Discussion of a person at the neighbourhood multidisciplinary team meeting."
* #social-prescribing "Social prescribing" "Referral to a social prescribing link worker."
* #community-nursing "Community nursing" "District and community nursing."
* #therapy "Therapy" "Physiotherapy, occupational therapy and speech and language therapy."
* #mental-health "Community mental health" "Community mental health team."
* #social-care "Adult social care" "Assessment or support from adult social care."
* #voluntary-sector "Voluntary sector" "Support from a voluntary, community or faith sector partner."

ValueSet: HearthReferralCategoryVS
Id: referral-category
Title: "Hearth referral categories"
Description: "Every Hearth referral category."
* ^status = #active
* include codes from system HearthReferralCategory

CodeSystem: HearthTriageOutcome
Id: triage-outcome
Title: "Hearth triage state"
Description: "Business status of a referral's fulfilment Task while the receiving team triages and works it."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #awaiting-triage "Awaiting triage" "Received, not yet triaged."
* #awaiting-information "Awaiting information" "The team has asked the referrer for missing information."
* #accepted "Accepted" "Accepted onto the team's caseload."
* #redirected "Redirected" "Sent on to another service that fits better."
* #declined "Declined" "Not accepted; the status reason says why."
* #contact-attempted "Contact attempted" "The team tried to reach the person."
* #in-service "In service" "The person is being seen by the team."
* #discharged "Discharged" "Care by the team has ended."

ValueSet: HearthTriageOutcomeVS
Id: triage-outcome
Title: "Hearth triage states"
Description: "Every Hearth triage state."
* ^status = #active
* include codes from system HearthTriageOutcome

CodeSystem: HearthTaskCategory
Id: task-category
Title: "Hearth task category"
Description: "Kinds of action agreed in MDTs and care plans."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #mdt-action "MDT action" "An action agreed at a multidisciplinary team meeting."
* #care-plan-action "Care plan action" "An activity of a care plan."
* #follow-up "Follow-up" "Contact the person or a colleague again."
* #home-visit "Home visit" "Visit the person at home."
* #medication-review "Medication review" "Review the person's medicines."
* #assessment "Assessment" "Carry out an assessment."
* #admin "Administration" "Paperwork, booking or coordination."

ValueSet: HearthTaskCategoryVS
Id: task-category
Title: "Hearth task categories"
Description: "Every Hearth task category."
* ^status = #active
* include codes from system HearthTaskCategory

CodeSystem: HearthCareTeamRole
Id: care-team-role
Title: "Hearth care team role"
Description: "Roles of members of a person's care team and of the neighbourhood team."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #care-coordinator "Care coordinator" "The named person who coordinates the person's care (one per person)."
* #gp "General practitioner"
* #community-nurse "Community nurse"
* #social-worker "Social worker"
* #mental-health-practitioner "Mental health practitioner"
* #therapist "Therapist"
* #pharmacist "Pharmacist"
* #social-prescriber "Social prescribing link worker"
* #voluntary-sector-worker "Voluntary sector worker"
* #team-member "Team member" "Any other member."

ValueSet: HearthCareTeamRoleVS
Id: care-team-role
Title: "Hearth care team roles"
Description: "Every Hearth care team role."
* ^status = #active
* include codes from system HearthCareTeamRole

CodeSystem: HearthRiskMethod
Id: risk-method
Title: "Hearth risk stratification method"
Description: "Population health segmentation and risk stratification methods Hearth records."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #efi "Electronic Frailty Index"
* #cms "Cambridge Multimorbidity Score"
* #bridges-to-health "Bridges to Health segmentation"
* #complex-needs "Complex needs cohort"

ValueSet: HearthRiskMethodVS
Id: risk-method
Title: "Hearth risk stratification methods"
Description: "Every Hearth risk stratification method."
* ^status = #active
* include codes from system HearthRiskMethod

CodeSystem: HearthActivity
Id: hearth-activity
Title: "Hearth activity"
Description: "Activities a PractitionerRole carries in its code that change what the role may see (docs/security-restricted.md)."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #sensitive-data "Sensitive data" "The role sees sealed resources (meta.security v3-Confidentiality R and V) and may add, change or remove those labels."
* #restricted-access "Restricted access" "The role is restricted: it sees only what is shared with it (the Tasks it owns and what they refer to, shared CarePlans, its own Communications)."

ValueSet: HearthActivityVS
Id: hearth-activity
Title: "Hearth activities"
Description: "Every Hearth activity."
* ^status = #active
* include codes from system HearthActivity

CodeSystem: HearthOrganizationType
Id: organization-type
Title: "Hearth organisation type"
Description: "Kinds of organisation whose type changes what the people and systems acting for them may see (docs/security-restricted.md)."
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #voluntary "Voluntary sector" "A voluntary, community or faith sector partner: every role there, and its systems, are restricted (they see only what is shared with them)."

ValueSet: HearthOrganizationTypeVS
Id: organization-type
Title: "Hearth organisation types"
Description: "Every Hearth organisation type."
* ^status = #active
* include codes from system HearthOrganizationType

// UK Core's NHS number verification status (England), mirrored here with its
// own canonical URL because the UK Core package is not available offline.
CodeSystem: UKCoreNHSNumberVerificationStatusEngland
Id: UKCore-NHSNumberVerificationStatusEngland
Title: "NHS Number Verification Status (England), as UK Core"
Description: "The NHS Data Dictionary's NHS number status indicator codes, as published by UK Core."
* ^url = $UKCORE_NHSVS
* ^caseSensitive = true
* ^content = #complete
* ^status = #active
* #01 "Number present and verified"
* #02 "Number present but not traced"
* #03 "Trace required"
* #04 "Trace attempted - No match or multiple match found"
* #05 "Trace needs to be resolved - (NHS Number or patient detail conflict)"
* #06 "Trace in progress"
* #07 "Number not present and trace not required"
* #08 "Trace postponed (baby under six weeks old)"

ValueSet: UKCoreNHSNumberVerificationStatus
Id: UKCore-NHSNumberVerificationStatus
Title: "NHS Number Verification Status, as UK Core"
Description: "The England NHS number verification statuses."
* ^url = "https://fhir.hl7.org.uk/ValueSet/UKCore-NHSNumberVerificationStatus"
* ^status = #active
* include codes from system UKCoreNHSNumberVerificationStatusEngland

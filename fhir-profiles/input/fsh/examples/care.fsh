Instance: grace-step-up-referral
InstanceOf: HearthReferral
Usage: #example
Title: "Step-up referral for Grace"
Description: "The GP refers Grace to community nursing after two falls in a week."
* status = #active
* intent = #order
* category = HearthReferralCategory#step-up "Step-up care"
* priority = #urgent
* subject = Reference(grace-okafor)
* requester = Reference(dr-tom-walsh-at-hyde-park)
* performer = Reference(leeds-community-nursing)
* authoredOn = "2026-11-02T09:30:00Z"
* reasonCode.text = "Two falls in a week; struggling with stairs"
* supportingInfo = Reference(grace-sharing-consent)

Instance: grace-referral-task
InstanceOf: HearthReferralTask
Usage: #example
Title: "Fulfilment of Grace's referral"
Description: "Community nursing has accepted the referral; the response clock ran for two hours."
* status = #accepted
* businessStatus = HearthTriageOutcome#accepted "Accepted"
* intent = #order
* priority = #urgent
* code = $TASKCODE#fulfill
* focus = Reference(grace-step-up-referral)
* for = Reference(grace-okafor)
* authoredOn = "2026-11-02T09:31:00Z"
* lastModified = "2026-11-02T10:15:00Z"
* requester = Reference(dr-tom-walsh-at-hyde-park)
* owner = Reference(leeds-community-nursing)
* restriction.period.start = "2026-11-02T09:31:00Z"
* restriction.period.end = "2026-11-02T11:31:00Z"

Instance: grace-home-visit-task
InstanceOf: HearthTask
Usage: #example
Title: "Home visit for a falls assessment"
Description: "An action from the MDT, from Grace's care plan, done and closed with its outcome."
* extension[category].valueCodeableConcept = HearthTaskCategory#home-visit "Home visit"
* status = #completed
* intent = #order
* priority = #routine
* description = "Visit Grace at home and assess falls risk"
* basedOn = Reference(grace-care-plan)
* for = Reference(grace-okafor)
* authoredOn = "2026-11-03T14:00:00Z"
* requester = Reference(dr-tom-walsh-at-hyde-park)
* owner = Reference(nurse-amara-patel-at-lcn)
* restriction.period.end = "2026-11-06T17:00:00Z"
* output.type.text = "Falls assessment"
* output.valueString = "Assessed at home; grab rails ordered; physiotherapy referral agreed"

Instance: grace-care-plan
InstanceOf: HearthCarePlan
Usage: #example
Title: "Grace's care plan"
Description: "A living plan: stay safely at home."
* status = #active
* intent = #plan
* title = "Staying safely at home"
* subject = Reference(grace-okafor)
* period.start = "2026-11-03"
* author = Reference(nurse-amara-patel-at-lcn)
* careTeam = Reference(grace-care-team)
* activity.reference = Reference(grace-home-visit-task)

Instance: north-leeds-neighbourhood-team
InstanceOf: HearthNeighbourhoodTeam
Usage: #example
Title: "North Leeds neighbourhood team"
Description: "GP practice, community nursing and social care working as one team."
* status = #active
* name = "North Leeds neighbourhood team"
* participant[0].role = HearthCareTeamRole#community-nurse "Community nurse"
* participant[0].member = Reference(nurse-amara-patel-at-lcn)
* participant[1].role = HearthCareTeamRole#gp "General practitioner"
* participant[1].member = Reference(dr-tom-walsh-at-hyde-park)
* managingOrganization = Reference(leeds-community-nursing)

Instance: grace-care-team
InstanceOf: HearthCareTeam
Usage: #example
Title: "Grace's care team"
Description: "The people around Grace, with Amara as her care coordinator."
* status = #active
* subject = Reference(grace-okafor)
* participant[0].role = HearthCareTeamRole#care-coordinator "Care coordinator"
* participant[0].member = Reference(nurse-amara-patel-at-lcn)
* participant[0].period.start = "2026-11-03"
* participant[1].role = HearthCareTeamRole#gp "General practitioner"
* participant[1].member = Reference(dr-tom-walsh-at-hyde-park)

Instance: grace-caseload-entry
InstanceOf: HearthEpisodeOfCare
Usage: #example
Title: "Grace on the community nursing caseload"
Description: "Caseload membership with a named care coordinator."
* status = #active
* patient = Reference(grace-okafor)
* managingOrganization = Reference(leeds-community-nursing)
* period.start = "2026-11-02"
* referralRequest = Reference(grace-step-up-referral)
* careManager = Reference(nurse-amara-patel-at-lcn)
* team = Reference(north-leeds-neighbourhood-team)

Instance: grace-mdt-message
InstanceOf: HearthCommunication
Usage: #example
Title: "MDT message about Grace's plan"
Description: "A message on Grace's record, about her care plan."
* status = #completed
* subject = Reference(grace-okafor)
* about = Reference(grace-care-plan)
* sent = "2026-11-04T08:45:00Z"
* sender = Reference(nurse-amara-patel-at-lcn)
* recipient = Reference(dr-tom-walsh-at-hyde-park)
* payload.contentString = "Home visit done; grab rails ordered. Can we review her medicines at Thursday's MDT?"

Instance: grace-sharing-consent
InstanceOf: HearthConsent
Usage: #example
Title: "Grace agrees to share her record with the neighbourhood team"
Description: "Data-sharing consent between the practice and community nursing."
* status = #active
* scope = $CONSENTSCOPE#patient-privacy
* category = $LOINC#59284-0 "Patient Consent"
* patient = Reference(grace-okafor)
* dateTime = "2026-11-02T09:20:00Z"
* performer = Reference(grace-okafor)
* organization[0] = Reference(hyde-park-surgery)
* organization[1] = Reference(leeds-community-nursing)
* policyRule.text = "Neighbourhood data sharing agreement"
* provision.type = #permit
* provision.period.start = "2026-11-02"

Instance: grace-frailty-assessment
InstanceOf: HearthRiskAssessment
Usage: #example
Title: "Grace's electronic frailty index"
Description: "eFI from the practice record: severe frailty."
* status = #final
* method = HearthRiskMethod#efi "Electronic Frailty Index"
* subject = Reference(grace-okafor)
* occurrenceDateTime = "2026-11-01T00:00:00Z"
* prediction.outcome.text = "Severe frailty"
* prediction.probabilityDecimal = 0.41
* prediction.qualitativeRisk.text = "severe"

Profile: HearthCarePlan
Parent: CarePlan
Id: HearthCarePlan
Title: "Hearth care plan"
Description: "A person's living, shared care plan: goals and activities (Tasks and referrals) of the care team."
* status MS
* intent MS
* category MS
* title 1..1 MS
* subject 1..1 MS
* subject only Reference(HearthPatient)
* period MS
* author MS
* careTeam MS
* addresses MS
* goal MS
* activity MS
* activity.reference MS
* activity.reference only Reference(HearthTask or Task or HearthReferral or ServiceRequest or Appointment or CommunicationRequest)

Profile: HearthNeighbourhoodTeam
Parent: CareTeam
Id: HearthNeighbourhoodTeam
Title: "Hearth neighbourhood team"
Description: "A team across organisations (GP practices, community and mental health services, social care, voluntary sector) working as one: a CareTeam with no subject whose members are PractitionerRoles."
* status 1..1 MS
* name 1..1 MS
* subject 0..0
* participant MS
* participant.role MS
* participant.role from HearthCareTeamRoleVS (extensible)
* participant.member 1..1 MS
* participant.member only Reference(HearthPractitionerRole or HearthPractitioner or HearthOrganization)
* managingOrganization MS

Profile: HearthCareTeam
Parent: CareTeam
Id: HearthCareTeam
Title: "Hearth care team of a person"
Description: "The people around one person, with exactly one current care coordinator while the team is active."
* obeys hearth-ct-1
* status 1..1 MS
* subject 1..1 MS
* subject only Reference(HearthPatient)
* participant 1..* MS
* participant.role 1..* MS
* participant.role from HearthCareTeamRoleVS (extensible)
* participant.member 1..1 MS
* participant.period MS
* managingOrganization MS

Profile: HearthEpisodeOfCare
Parent: EpisodeOfCare
Id: HearthEpisodeOfCare
Title: "Hearth caseload entry"
Description: "A person on a team's caseload: the team, the named care coordinator (careManager) and the referral it came from."
* obeys hearth-eoc-1
* status MS
* type MS
* patient MS
* patient only Reference(HearthPatient)
* managingOrganization MS
* period MS
* referralRequest MS
* referralRequest only Reference(HearthReferral)
* careManager MS
* careManager only Reference(HearthPractitionerRole or HearthPractitioner)
* careManager ^short = "The person's care coordinator"
* team 1..* MS
* team only Reference(HearthNeighbourhoodTeam or HearthCareTeam)

Profile: HearthCommunication
Parent: Communication
Id: HearthCommunication
Title: "Hearth communication"
Description: "A message of an MDT conversation that follows the person: about a plan, task or referral, threaded by inResponseTo."
* obeys hearth-com-1
* status MS
* subject 1..1 MS
* subject only Reference(HearthPatient)
* about MS
* inResponseTo MS
* inResponseTo only Reference(HearthCommunication)
* sent MS
* sender 1..1 MS
* sender only Reference(HearthPractitionerRole or HearthPractitioner or HearthOrganization or HealthcareService)
* recipient 1..* MS
* payload 1..* MS
* extension contains HearthMentionExt named mention 0..* MS

Profile: HearthConsent
Parent: Consent
Id: HearthConsent
Title: "Hearth data-sharing consent"
Description: "A person's consent (or dissent) to their record being shared between the organisations of the neighbourhood team."
* status MS
* scope MS
* scope = $CONSENTSCOPE#patient-privacy
* category 1..* MS
* category = $LOINC#59284-0
* patient 1..1 MS
* patient only Reference(HearthPatient)
* dateTime 1..1 MS
* performer MS
* organization 1..* MS
* organization only Reference(HearthOrganization)
* policy MS
* policyRule MS
* provision MS
* provision.type MS
* provision.period MS
* provision.actor MS

Profile: HearthRiskAssessment
Parent: RiskAssessment
Id: HearthRiskAssessment
Title: "Hearth risk assessment"
Description: "A population health segmentation or risk stratification result (eFI, Cambridge Multimorbidity Score, Bridges to Health, complex needs) for one person."
* status MS
* method 1..1 MS
* method from HearthRiskMethodVS (extensible)
* subject 1..1 MS
* subject only Reference(HearthPatient)
* occurrence[x] 1..1 MS
* occurrence[x] only dateTime
* basis MS
* prediction 1..* MS
* prediction.outcome MS
* prediction.probability[x] MS
* prediction.qualitativeRisk MS

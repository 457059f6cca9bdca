// Search parameters R4 lacks and neighbourhood work needs. The server indexes
// them like R4's (server/src/fhir/definitions.ts loads them with R4's).

Instance: Communication-about
InstanceOf: SearchParameter
Usage: #definition
Title: "Communication about"
* url = "https://hearth.example/fhir/SearchParameter/Communication-about"
* name = "about"
* status = #active
* description = "Messages about a care plan, task, referral or other resource (MDT conversations that follow the record)."
* code = #about
* base = #Communication
* type = #reference
* expression = "Communication.about"
* xpathUsage = #normal
* target[0] = #CarePlan
* target[+] = #ServiceRequest
* target[+] = #Task
* target[+] = #Goal
* target[+] = #Condition
* target[+] = #EpisodeOfCare
* target[+] = #RiskAssessment

Instance: Communication-in-response-to
InstanceOf: SearchParameter
Usage: #definition
Title: "Communication in response to"
* url = "https://hearth.example/fhir/SearchParameter/Communication-in-response-to"
* name = "in-response-to"
* status = #active
* description = "Replies to a message (threads)."
* code = #in-response-to
* base = #Communication
* type = #reference
* expression = "Communication.inResponseTo"
* xpathUsage = #normal
* target[0] = #Communication

Instance: CareTeam-role
InstanceOf: SearchParameter
Usage: #definition
Title: "CareTeam participant role"
* url = "https://hearth.example/fhir/SearchParameter/CareTeam-role"
* name = "role"
* status = #active
* description = "Care teams with a participant in a role, e.g. a care coordinator."
* code = #role
* base = #CareTeam
* type = #token
* expression = "CareTeam.participant.role"
* xpathUsage = #normal

Instance: Task-due
InstanceOf: SearchParameter
Usage: #definition
Title: "Task due date"
* url = "https://hearth.example/fhir/SearchParameter/Task-due"
* name = "due"
* status = #active
* description = "When a task is due: the end of restriction.period (the response clock of a referral task, the due date of an action)."
* code = #due
* base = #Task
* type = #date
* expression = "Task.restriction.period.end"
* xpathUsage = #normal

Instance: EpisodeOfCare-team
InstanceOf: SearchParameter
Usage: #definition
Title: "EpisodeOfCare team"
* url = "https://hearth.example/fhir/SearchParameter/EpisodeOfCare-team"
* name = "team"
* status = #active
* description = "Caseload entries of a team."
* code = #team
* base = #EpisodeOfCare
* type = #reference
* expression = "EpisodeOfCare.team"
* xpathUsage = #normal
* target[0] = #CareTeam

Instance: Task-priority-score
InstanceOf: SearchParameter
Usage: #definition
Title: "Task priority score"
* url = "https://hearth.example/fhir/SearchParameter/Task-priority-score"
* name = "priority-score"
* status = #active
* description = "A transparent score (0-110) worked out when the search runs, so it has no FHIRPath expression: clinical priority (stat 40, asap 30, urgent 20), overdue (15 plus 1 per whole day past restriction.period.end, at most 30) or due within 24 hours (5), the person's latest RiskAssessment (high or certain 20, moderate 10), waiting since authoredOn (1 per whole week, at most 10), and 10 when it is part of an open Task. Sort with _sort=-priority-score (each entry then carries its score and reasons in the extension https://hearth.example/fhir/StructureDefinition/priority-score on entry.search) and filter like a number (priority-score=ge50)."
* code = #priority-score
* base = #Task
* type = #number
* xpathUsage = #other

Instance: EpisodeOfCare-care-coordinator
InstanceOf: SearchParameter
Usage: #definition
Title: "EpisodeOfCare care coordinator"
* url = "https://hearth.example/fhir/SearchParameter/EpisodeOfCare-care-coordinator"
* name = "care-coordinator"
* status = #active
* description = "The person's care coordinator on a caseload entry, a Practitioner or a PractitionerRole (R4's care-manager indexes Practitioners only)."
* code = #care-coordinator
* base = #EpisodeOfCare
* type = #reference
* expression = "EpisodeOfCare.careManager"
* xpathUsage = #normal
* target[0] = #Practitioner
* target[1] = #PractitionerRole

// Collaboration (issue 7 item 5): mentions in MDT messages.

Extension: HearthMentionExt
Id: communication-mention
Title: "Hearth mention"
Description: "Someone singled out in a message (an @mention): a person, role, team or service who should read and act on it. Everyone mentioned is also a recipient, so recipient searches, unread lists and subscriptions on recipient include mentions."
* ^context.type = #element
* ^context.expression = "Communication"
* value[x] only Reference(HearthPractitionerRole or HearthPractitioner or CareTeam or HealthcareService or HearthOrganization)
* valueReference 1..1

Instance: Communication-mentioned
InstanceOf: SearchParameter
Usage: #definition
Title: "Communication mentioned"
* url = "https://hearth.example/fhir/SearchParameter/Communication-mentioned"
* name = "mentioned"
* status = #active
* description = "Messages that mention (@) a person, role, team or service."
* code = #mentioned
* base = #Communication
* type = #reference
* expression = "Communication.extension.where(url='https://hearth.example/fhir/StructureDefinition/communication-mention').value"
* xpathUsage = #normal
* target[0] = #PractitionerRole
* target[+] = #Practitioner
* target[+] = #CareTeam
* target[+] = #HealthcareService
* target[+] = #Organization

Invariant: hearth-nhs-1
Description: "An NHS number is ten digits whose last is the Modulus 11 check digit of the first nine."
Severity: #error
Expression: "matches('^[0-9]{10}$') and ((11 - ((substring(0, 1).toInteger() * 10 + substring(1, 1).toInteger() * 9 + substring(2, 1).toInteger() * 8 + substring(3, 1).toInteger() * 7 + substring(4, 1).toInteger() * 6 + substring(5, 1).toInteger() * 5 + substring(6, 1).toInteger() * 4 + substring(7, 1).toInteger() * 3 + substring(8, 1).toInteger() * 2) mod 11)) mod 11) = substring(9, 1).toInteger())"

Invariant: hearth-sr-1
Description: "A referral gives its reason, as a code or a reference."
Severity: #error
Expression: "reasonCode.exists() or reasonReference.exists()"

Invariant: hearth-sr-2
Description: "A referral has a Hearth referral category."
Severity: #error
Expression: "category.coding.where(system = 'https://hearth.example/fhir/CodeSystem/referral-category').exists()"

Invariant: hearth-task-1
Description: "A task that is rejected, cancelled, on hold or failed says why in statusReason.text."
Severity: #error
Expression: "(status = 'rejected' or status = 'cancelled' or status = 'on-hold' or status = 'failed') implies statusReason.text.exists()"

Invariant: hearth-task-2
Description: "A completed action records its outcome in output."
Severity: #error
Expression: "status = 'completed' implies output.exists()"

Invariant: hearth-ct-1
Description: "An active care team of a person has exactly one current care coordinator."
Severity: #error
Expression: "status = 'active' implies participant.where(role.coding.where(system = 'https://hearth.example/fhir/CodeSystem/care-team-role' and code = 'care-coordinator').exists() and (period.end.empty() or period.end >= now())).count() = 1"

Invariant: hearth-eoc-1
Description: "An active episode of care (a caseload entry) names its care coordinator in careManager."
Severity: #error
Expression: "status = 'active' implies careManager.exists()"

Invariant: hearth-com-1
Description: "A completed message says when it was sent."
Severity: #error
Expression: "status = 'completed' implies sent.exists()"

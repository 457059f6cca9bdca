Profile: HearthTask
Parent: Task
Id: HearthTask
Title: "Hearth task"
Description: "An action agreed in an MDT or taken from a care plan: for a person, owned by someone, asked for by someone, prioritised, due by a date, and closed with its outcome."
* obeys hearth-task-1 and hearth-task-2
* status MS
* statusReason MS
* intent MS
* priority 1..1 MS
* code MS
* description MS
* basedOn MS
* basedOn only Reference(HearthCarePlan or CarePlan)
* for 1..1 MS
* for only Reference(HearthPatient)
* authoredOn MS
* requester 1..1 MS
* requester only Reference(HearthPractitionerRole or HearthOrganization or HearthPractitioner)
* owner 1..1 MS
* owner only Reference(HearthPractitionerRole or HearthPractitioner or HealthcareService or HearthOrganization)
* restriction MS
* restriction.period MS
* restriction.period.end MS
* restriction.period.end ^short = "Due date"
* output MS
* extension contains HearthTaskCategoryExt named category 0..1 MS

Extension: HearthTaskCategoryExt
Id: task-category
Title: "Hearth task category"
Description: "The kind of action a task is (R4 Task has no category element)."
* ^context.type = #element
* ^context.expression = "Task"
* value[x] only CodeableConcept
* valueCodeableConcept 1..1
* valueCodeableConcept from HearthTaskCategoryVS (required)

Extension: HearthTaskBreach
Id: task-breach
Title: "Hearth task breach"
Description: "Set by Hearth (the breach watch) on an open Task whose response or due time, restriction.period.end, has passed: the deadline that was missed. A Task given a new deadline loses it; the task-overdue subscription topic fires when it appears."
* ^context.type = #element
* ^context.expression = "Task"
* value[x] only dateTime
* valueDateTime 1..1

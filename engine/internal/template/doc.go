// Package template is the template language of sidecar definitions.
//
// A sidecar definition may hold actions between {% and %}, the delimiters
// of the Salesforce injector whose configs this project loads unchanged:
//
//	secretName: aws-iam-{% .Spec.ServiceAccountName %}
//	value: {% index .Annotations "vault.k8s-integration.sfdc.com/role" %}
//
// The language is Go's text/template with those delimiters; {{ and }} are
// plain text, so a sidecar may carry another tool's templates. A template is
// parsed once, when the configuration loads ([Parse]), and executed for each
// pod ([Template.Execute]). The data is the pod, a *corev1.Pod, as in the old injector: .Name,
// .Namespace, .Annotations, .Labels (ObjectMeta's fields are promoted),
// .Spec.ServiceAccountName, and the rest of the pod.
//
// A field the pod does not have ({% .Spec.ServiceAcountName %}) fails at
// [Parse], with the nearest field's name, and so does a call of a template
// that is not defined.
//
// Templates read the pod's fields; they cannot call the Go methods of its
// types, which text/template would otherwise allow: some change the pod
// (Unmarshal, UnmarshalJSON, Quantity's RoundUp), and .Marshal followed by
// .Unmarshal in a loop doubles it each time. Naming one (for example
// {% .Marshal %}) fails at [Parse].
//
// A missing map key gives the empty string (missingkey=zero): both
// {% index .Annotations "absent" %} and {% .Annotations.absent %} render
// as "". A value that is missing altogether (for example a key absent from
// a map made by fromYaml) also prints as "", never as "<no value>".
//
// # Functions
//
// Templates get sprig's hermetic function set (sprig.HermeticTxtFuncMap),
// minus every function that is not deterministic or is a resource hazard,
// plus a few of their own. The same configuration and the same pod must
// give the same output in the KRM function, on a laptop, and in the webhook,
// on a server: nothing may read the clock, a random source, the environment,
// the network, the file system or the host's conventions.
//
// Removed from sprig: whatever reads the clock or the time zones (now,
// date, toDate...; duration and unixEpoch stay), a random source (rand*,
// shuffle, uuidv4, bcrypt, encryptAES, the gen* keys and certificates), the
// host (env, expandenv, getHostByName, os*; base, clean, dir, ext and isAbs
// stay), and derivePassword (scrypt: 32 MiB per call). The list, with the
// reason a template naming one is given at [Parse], is removed in funcs.go.
//
// Changed from sprig: keys returns sorted keys and values follows sorted
// keys (sprig follows Go's random map order); repeat, until, untilStep, seq,
// indent, nindent, wrapWith, replace, join, the regexReplaceAll family and
// text/template's printf refuse, before building it, a result that could
// exceed the limits; uniq refuses lists longer than 2048 elements (it is
// quadratic); fromJson fails on invalid JSON instead of returning nothing.
// YAML is read and written by sigs.k8s.io/yaml, as Kubernetes and Helm do
// (so toYaml quotes "y", "yes", "on"...).
//
// Added:
//
//   - annotation KEY [DEFAULT], label KEY [DEFAULT]: the pod's annotation or
//     label, or DEFAULT when it is absent or empty. Without DEFAULT, a key
//     the pod does not have fails the rendering, naming the key (index
//     .Annotations "KEY" keeps Go's empty value, as the old injector had).
//   - required MSG VALUE: VALUE, or rendering fails with MSG when VALUE is
//     nil or the empty string (as Helm's required).
//   - toJson, fromJson, toYaml, fromYaml: toYaml writes sorted keys and no
//     final newline (as Helm's, so that {% toYaml .x | nindent 4 %} works);
//     fromYaml and fromJson return whatever the document holds (a map, a
//     list or a scalar) and fail when it does not parse.
//
// # Bounds
//
// A template must not hang a server or exhaust its memory, whoever wrote
// it. [Limits] bound each execution:
//
//   - Output: at most MaxOutput bytes (1 MiB); beyond, rendering fails with
//     "template output exceeds 1048576 bytes".
//   - Steps: every iteration of every range loop, whatever it ranges over (a
//     list, a map, an integer, a value computed at run time), and every call
//     of a defined template counts one step; at most MaxSteps (100000) per
//     execution. A range over an integer literal above MaxSteps is refused at
//     parse. A defined template that calls itself (directly or not) is
//     refused at parse, so template nesting is bounded by the template.
//   - Time: at most Timeout (1 s) of wall time, checked at every step and
//     every eighth write of output. This check really stops the work: rendering
//     runs in the caller's goroutine and returns an error; nothing is left
//     running.
//   - Values: a function refuses to make a string longer than MaxOutput
//     bytes or a list or map of more than MaxOutput elements; the functions
//     that would allocate on demand (repeat, until, untilStep, seq, indent,
//     nindent, wrapWith, replace, regexReplaceAll...) check before they
//     allocate. Every value given to a function whose parameters are not
//     plain strings or numbers, and every non-scalar value printed, is first
//     measured as if written out (shared parts counted each time they are
//     reached, each element weighted by its depth so that indented output
//     stays proportional) and refused beyond MaxOutput units or 100 levels of
//     nesting. This stops a list that doubles itself in a loop, or a dict
//     that contains itself, before anything formats, copies or serializes it
//     (formatting a cyclic value would otherwise overflow the stack and kill
//     the process). printf and join, whose output can be the product of
//     their inputs' sizes (a width of 999999 per verb, an argument printed
//     again and again with %[1]s, a long separator), check a bound first.
//
// What is not bounded, or only loosely:
//
//   - A single function call is not interrupted. Its cost is bounded by its
//     inputs, which are bounded as above, but can reach tens of
//     milliseconds (a regular expression over 1 MiB, sorting a long list);
//     the time limit is checked between calls, so an execution may overrun
//     Timeout by about one such call, plus the work of the actions that run
//     between two checkpoints (bounded by the template's size).
//   - Memory is bounded only as a small multiple of MaxOutput per value alive
//     at once: a template can hold several values of that size in variables.
//     There is no global memory accounting.
//   - Parsing is not bounded: templates come from configuration, which is
//     trusted to be of reasonable size.
//   - fromYaml relies on the YAML library's own defence against alias
//     expansion ("billion laughs").
//
// # Errors
//
// Parse and Execute return *[Error], whose Line is the line of the template
// text (1-based) so that the caller can add the line where the template
// starts in its file, and whose message has no other location:
//
//	line 3: function "foo" not defined
//	line 2: error calling required: vault role annotation missing
//
// # Cost
//
// text/template binds functions when it parses; annotation and label must
// read the pod being rendered, and the step counter is per execution, so
// each concurrent execution uses its own copy of the template, taken from a
// pool (a copy is made only when the pool is empty, and carries only the
// functions the template names: about 1 KiB). Rendering a scalar such as
// aws-iam-{% .Spec.ServiceAccountName %} costs what text/template itself
// costs plus one reading of the clock. At parse, an action whose value is
// statically a string or a number (a field of the pod, index of a pod map,
// a function returning a string) is printed directly; other actions go
// through the measuring step described above. [Template.Fields] says
// which fields of the pod a template can read, so that a caller decodes
// only those of each pod (its containers, the bulk of a spec, are rarely
// read).
package template

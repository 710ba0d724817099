//! The argument names that hold paths, in every dialect the default policy
//! knows.

/// Argument names that hold paths, in the vocabularies of common agents.
pub(crate) const PATH_ARGS: &[&str] = &[
    "path",
    "paths",
    "file",
    "files",
    "filepath",
    "file_path",
    "filePath",
    "filePaths",
    "filename",
    "fileName",
    "source",
    "sources",
    "target",
    "target_file",
    "input",
    "inputs",
    "directory",
    "dir",
    "dirs",
    "dirPath",
    "dir_path",
    "directories",
    "folder",
    "folders",
    "root",
    "cwd",
    "workspace",
    "new_path",
    "old_path",
    "absolute_path",
    "notebook_path",
    "absolutePath",
    "image_file",
];

/// True if an argument of this name holds paths.
pub(crate) fn is_path_arg(name: &str) -> bool {
    PATH_ARGS.contains(&name)
}

/// Argument names that hold no path: content, edits, ranges, flags, in the
/// vocabularies of common agents' write tools.
pub(crate) const CONTENT_ARGS: &[&str] = &[
    "content",
    "contents",
    "text",
    "file_text",
    "old",
    "new",
    "old_str",
    "new_str",
    "old_string",
    "new_string",
    "oldText",
    "newText",
    "old_text",
    "new_text",
    "replace_all",
    "expected_replacements",
    "insert_line",
    "insert_text",
    "view_range",
    "edits",
    "diff",
    "line",
    "lines",
    "line_number",
    "start_line",
    "end_line",
    "startLine",
    "endLine",
    "mode",
    "encoding",
    "message",
    "description",
    "explanation",
    "instructions",
    "code_edit",
    "overwrite",
    "append",
    "create_parents",
    "createParents",
    "parents",
    "recursive",
    "force",
    "dry_run",
    "dryRun",
    "command",
    "new_source",
    "cell_id",
    "cell_type",
    "edit_mode",
    "security_risk",
    "timeout",
    "before",
    "after",
];

/// The first argument name, at any depth, that holds a string (or strings)
/// and is neither a path argument nor a content argument. Containers (`ops:
/// [{path, new_path}]`) are looked into, not judged by their name.
pub(crate) fn unknown_arg(args: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let holds_strings = |v: &Value| match v {
        Value::String(_) => true,
        Value::Array(items) => items.iter().any(Value::is_string),
        _ => false,
    };
    match args {
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            let known = is_path_arg(k) || CONTENT_ARGS.contains(&k.as_str());
            if !known && holds_strings(v) {
                Some(k.clone())
            } else {
                unknown_arg(v)
            }
        }),
        Value::Array(items) => items.iter().find_map(unknown_arg),
        _ => None,
    }
}

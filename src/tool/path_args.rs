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
];

/// True if an argument of this name holds paths.
pub(crate) fn is_path_arg(name: &str) -> bool {
    PATH_ARGS.contains(&name)
}

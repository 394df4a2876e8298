//! Setting `name = value` options in a configuration file in place, for the languages
//! that write them that way (Postfix `main.cf`, Exim's main section and Debian's macro
//! files). The rules are the same for both: the first definition (with its continuation
//! lines) is replaced, later ones are removed (Postfix warns and takes the last, Exim
//! refuses a second one), missing ones are added, every other line is kept byte for byte,
//! and a second run changes nothing. Only what a definition looks like differs, and that
//! is what [`Syntax`] says.

use super::postfix::Param;

/// How one configuration language writes an option.
pub(crate) struct Syntax {
    /// Lines before this index may hold options (Exim: its main section, up to the first
    /// `begin`); missing options are inserted there.
    pub section_end: fn(&[String]) -> usize,
    /// Is `line` a definition of the option `name`?
    pub defines: fn(line: &str, name: &str) -> bool,
    /// Does `next` continue the definition whose previous line is `prev`?
    pub continues: fn(prev: &str, next: &str) -> bool,
}

/// Sets every parameter of `params` in `text` by the rules of `syntax` (module docs).
pub(crate) fn set_all(text: &str, params: &[Param], syntax: &Syntax) -> String {
    let mut lines = super::cf::split_keep_newlines(text);
    for prm in params {
        let end_of_section = (syntax.section_end)(&lines);
        // (start, end) line ranges of each definition of this parameter.
        let mut defs: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < end_of_section {
            let l = lines.get(i).map(String::as_str).unwrap_or_default();
            if (syntax.defines)(l, &prm.name) {
                let mut end = i + 1;
                while end < end_of_section
                    && let (Some(prev), Some(next)) = (lines.get(end - 1), lines.get(end))
                    && (syntax.continues)(prev, next)
                {
                    end += 1;
                }
                defs.push((i, end));
                i = end;
            } else {
                i += 1;
            }
        }
        let wanted = format!("{} = {}\n", prm.name, prm.value);
        match defs.split_first() {
            Some((&(start, end), rest)) => {
                for &(s, e) in rest.iter().rev() {
                    lines.drain(s..e);
                }
                let same = end == start + 1
                    && lines.get(start).is_some_and(|l| {
                        l.split_once('=')
                            .is_some_and(|(_, v)| v.trim() == prm.value)
                    });
                if !same {
                    lines.splice(start..end, [wanted]);
                }
            }
            None if end_of_section < lines.len() => lines.insert(end_of_section, wanted),
            None => {
                if let Some(l) = lines.last_mut()
                    && !l.ends_with('\n')
                {
                    l.push('\n');
                }
                lines.push(wanted);
            }
        }
    }
    lines.concat()
}
